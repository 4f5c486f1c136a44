/**
 * `npm start`: reads the environment, starts the embedded sandbox when no CIRCLE_APP_TOKEN is set,
 * and serves the gateway until SIGTERM or SIGINT, then drains and exits 0.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from './client/index.js';
import { ConfigError, type GatewayConfig, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { describeSandbox } from './sandbox/describe.js';
import { type Sandbox, startSandbox } from './sandbox/server.js';
import { createGateway } from './server.js';

let config: GatewayConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`circle-auth-gateway: ${error.message}\n`);
  process.exit(1);
}

/** Start-up failures the operator can fix (a port in use, say) end in one line, not a stack trace. */
function fail(what: string, error: unknown): never {
  const code = (error as { code?: string }).code;
  const reason =
    code === 'EADDRINUSE'
      ? 'the address is already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : String((error as Error).message);
  process.stderr.write(`circle-auth-gateway: ${what}: ${reason}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
let sandbox: Sandbox | undefined;
if (config.circleAppToken === undefined) {
  sandbox = await startSandbox(config.sandbox).catch((error: unknown) =>
    fail(
      `cannot start the sandbox on ${config.sandbox.host}:${config.sandbox.port} (SANDBOX_HOST, SANDBOX_PORT)`,
      error,
    ),
  );
}

const client = createClient({
  appToken: sandbox?.appToken ?? (config.circleAppToken as string),
  baseURL: sandbox?.url ?? config.circleBaseUrl,
  deadlineMs: config.upstreamTimeoutMs,
  connectTimeoutMs: config.upstreamConnectTimeoutMs,
  connections: config.upstreamConnections,
});
const firstMember = sandbox?.simulator.members[0];
// config.ts has already refused to start outside sandbox mode without caller authentication.
const openAccess = sandbox !== undefined && config.auth.apiKeys.size === 0 && config.auth.jwt === undefined;
const gateway = createGateway(
  { ...config, openAccess },
  {
    client,
    logger,
    ...(firstMember ? { exampleMember: firstMember } : {}),
  },
);
const server = createServer(gateway);
// Responses still to be sent when shutdown begins tell the client not to reuse the connection.
const pending = new Set<ServerResponse>();
let stopping = false;
server.on('request', (_req, res: ServerResponse) => {
  if (stopping) res.setHeader('connection', 'close');
  pending.add(res);
  res.once('close', () => pending.delete(res));
});

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, config.host, () => resolve());
}).catch((error: unknown) => fail(`cannot listen on ${config.host}:${config.port} (HOST, PORT)`, error));
const { port } = server.address() as AddressInfo;
const host = config.host.includes(':') ? `[${config.host}]` : config.host;
const url = `http://${host}:${port}/graphql`;
logger.info({ url, sandbox: sandbox !== undefined, openAccess }, 'gateway listening');
if (openAccess) logger.warn('open access: sandbox mode without caller authentication');

if (sandbox) {
  process.stdout.write(
    [
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
      '',
      describeSandbox(sandbox),
      '',
      'Ask the gateway for a member token:',
      `  curl -s ${url} -H 'content-type: application/json' \\`,
      `    -d '{"query":"{ memberToken(by: EMAIL, value: \\"${firstMember?.email}\\") { ... on MemberToken { accessToken refreshToken } ... on Error { code message } } }"}'`,
      '',
    ].join('\n'),
  );
} else {
  process.stdout.write(`circle-auth-gateway listening at ${url}\n`);
}

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
  logger.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down: draining in-flight requests');
  // Stop accepting; idle keep-alive sockets close now, busy ones once their response is sent.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets turn idle as their last response is sent: close them as they do, rather than
  // waiting for the keep-alive timeout.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  server.closeIdleConnections();
  const drained = await Promise.race([
    closed.then(() => true),
    new Promise<false>((resolve) => setTimeout(resolve, config.shutdownDrainMs, false).unref()),
  ]);
  clearInterval(sweeper);
  if (!drained) {
    logger.warn('drain deadline passed: closing the remaining connections');
    server.closeAllConnections();
  }
  await client.close();
  await sandbox?.close();
  logger.info('stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
