import { describeSandbox } from './sandbox/describe.js';
import type { Sandbox } from './sandbox/server.js';

export interface BannerFacts {
  /** The GraphQL endpoint's URL. */
  url: string;
  /** The embedded sandbox, in sandbox mode. */
  sandbox?: Sandbox | undefined;
  /** Sandbox mode without caller authentication: anyone may get any member's tokens. */
  openAccess: boolean;
  /** Where Prometheus metrics are served, when they are. */
  metricsUrl?: string | undefined;
}

/** What `npm start` prints once it listens: in sandbox mode, how to try it; otherwise one line. */
export function startBanner({ url, sandbox, openAccess, metricsUrl }: BannerFacts): string {
  const metrics = metricsUrl ? `metrics at ${metricsUrl}\n` : '';
  if (!sandbox) return `circle-auth-gateway listening at ${url}\n${metrics}`;
  const firstMember = sandbox.simulator.members[0];
  return [
    '',
    'SANDBOX MODE: no CIRCLE_APP_TOKEN is set, so the gateway talks to the embedded Circle simulator.',
    'Nothing here reaches Circle; set CIRCLE_APP_TOKEN to use your community.',
    ...(openAccess
      ? [
          '',
          "*** OPEN ACCESS: no GATEWAY_API_KEYS or GATEWAY_JWT_* is set, so ANY caller may get ANY member's",
          '*** tokens. Fine for the sandbox on loopback; never expose it like this.',
        ]
      : []),
    '',
    `GraphiQL:  ${url}`,
    ...(metricsUrl ? [`Metrics:   ${metricsUrl}`] : []),
    '',
    describeSandbox(sandbox),
    '',
    'Ask the gateway for a member token:',
    `  curl -s ${url} -H 'content-type: application/json' \\`,
    `    -d '{"query":"{ memberToken(by: EMAIL, value: \\"${firstMember?.email}\\") { ... on MemberToken { accessToken refreshToken } ... on Error { code message } } }"}'`,
    '',
  ].join('\n');
}
