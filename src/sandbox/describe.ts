import type { Sandbox } from './server.js';

/** What `npm run sandbox` prints: where it is, its app token (a sandbox value, not a secret) and members. */
export function describeSandbox(sandbox: Sandbox): string {
  const members = sandbox.simulator.members
    .slice(0, 10)
    .map((m) => `    ${String(m.id).padStart(4)}  ${m.email.padEnd(26)} sso: ${m.ssoId}`)
    .join('\n');
  const more =
    sandbox.simulator.members.length > 10 ? `\n    … and ${sandbox.simulator.members.length - 10} more` : '';
  return [
    `Circle Headless Auth sandbox listening at ${sandbox.url}`,
    `  app token:   ${sandbox.appToken}   (admin token, answered 403: ${sandbox.adminToken})`,
    '  members:',
    `${members}${more}`,
    `  admin:       GET|PUT ${sandbox.url}/__sandbox/faults, GET ${sandbox.url}/__sandbox/stats, POST ${sandbox.url}/__sandbox/token-state (Bearer app token)`,
    '  try:',
    `    curl -s -X POST ${sandbox.url}/api/v1/headless/auth_token \\`,
    `      -H 'authorization: Bearer ${sandbox.appToken}' -H 'content-type: application/json' \\`,
    `      -d '{"email":"${sandbox.simulator.members[0]?.email ?? 'ada@example.com'}"}'`,
  ].join('\n');
}
