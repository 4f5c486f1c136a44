/**
 * `npm start`: reads the environment, starts the embedded sandbox when no CIRCLE_APP_TOKEN is set,
 * and serves the gateway until SIGTERM or SIGINT, then drains and exits 0. It composes and listens;
 * each part lives in its own module.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { type AuditLog, auditEmailHash, createAuditLog } from './audit/index.js';
import { createCallerAuthentication } from './auth/callers.js';
import { startBanner } from './banner.js';
import { createUpstream } from './client/upstream.js';
import { ConfigError, type GatewayConfig, loadConfig, reloadCallerAuth } from './config/load.js';
import { exitOnCrash } from './crash.js';
import { trackForDrain } from './drain.js';
import { createLogger, type EmailHasher, stdoutDestination } from './logger.js';
import { createMetrics } from './metrics/index.js';
import { startMetricsServer } from './metrics/server.js';
import { jwksLogging } from './plugins/use-caller-authentication.js';
import type { SharedState } from './redis/index.js';
import { assignRequestIds } from './request/id.js';
import type { Sandbox } from './sandbox/server.js';
import { createGateway } from './server.js';
import { startTracing } from './tracing/index.js';

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

// How far the heap may grow past what is live before a full collection. V8's own factor lets a busy
// gateway's old generation grow to several times its live size: RSS under load was twice Apollo
// Server's (bench/README.md, memory). Set before the first request; V8 reads it at each collection.
if (config.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
const stdout = stdoutDestination();
// Emails in log lines get the audit trail's keyed hash once its key is known (below).
const emails: EmailHasher = {};
const logger = createLogger(config.logLevel, stdout, emails);
exitOnCrash(logger);
// Before anything makes a span: the provider, the W3C propagator and the context manager.
const tracing = await startTracing(config.tracing);
let sandbox: Sandbox | undefined;
if (config.circleAppToken === undefined) {
  // Loaded only when needed, as Redis's client below: neither weighs on a gateway that does not use it.
  const { startSandbox } = await import('./sandbox/server.js');
  sandbox = await startSandbox(config.sandbox).catch((error: unknown) =>
    fail(
      `cannot start the sandbox on ${config.sandbox.host}:${config.sandbox.port} (SANDBOX_HOST, SANDBOX_PORT)`,
      error,
    ),
  );
}

const metrics = config.metrics.port === undefined ? undefined : createMetrics();
const appToken = sandbox?.appToken ?? (config.circleAppToken as string);
let audit: AuditLog;
try {
  audit = createAuditLog({
    appToken,
    ...(config.auditLogFile ? { file: config.auditLogFile } : { destination: stdout }),
  });
} catch (error) {
  // Never serve tokens without the trail of them: an unwritable file stops the start-up.
  fail(`cannot write the audit trail to ${config.auditLogFile} (AUDIT_LOG_FILE)`, error);
}
emails.hash = auditEmailHash(audit);
const client = createUpstream({
  ...(metrics ? { observer: metrics.upstream } : {}),
  appToken,
  baseURL: sandbox?.url ?? config.circleBaseUrl,
  deadlineMs: config.upstreamTimeoutMs,
  connectTimeoutMs: config.upstreamConnectTimeoutMs,
  connections: config.upstreamConnections,
});
// Replicas share the limits, the budget and refresh flights through Redis; start-up waits for it
// briefly, and without it serves on per-replica insurance limits until it answers.
let shared: SharedState | undefined;
if (config.redis) {
  const { connectSharedState } = await import('./redis/index.js');
  shared = await connectSharedState({
    url: config.redis.url,
    appToken,
    timeoutMs: config.redis.timeoutMs,
    replicas: config.rateLimits.replicas,
    flightWaitMs: config.upstreamTimeoutMs,
    logger,
  });
}
const exampleMember = sandbox?.simulator.members[0];
// load.ts has already refused to start outside sandbox mode without caller authentication.
const openAccess = sandbox !== undefined && config.auth.apiKeys.size === 0 && config.auth.jwt === undefined;
const callers = createCallerAuthentication(config.auth, { jwks: jwksLogging(logger) });
const gateway = createGateway(
  { ...config, openAccess },
  {
    client,
    logger,
    callers,
    audit,
    ...(shared ? { shared } : {}),
    ...(metrics ? { metrics } : {}),
    ...(exampleMember ? { exampleMember } : {}),
    sandbox: sandbox !== undefined,
    draining: () => stopping,
    tracing: tracing !== undefined,
  },
);
const server = createServer(
  assignRequestIds((req: IncomingMessage, res: ServerResponse) => gateway.nodeListener(req, res)),
);
const drain = trackForDrain(server);
/** Set on the first SIGTERM/SIGINT: `/ready` answers 503 from then on, on every connection. */
let stopping = false;

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, config.host, () => resolve());
}).catch((error: unknown) => fail(`cannot listen on ${config.host}:${config.port} (HOST, PORT)`, error));
const metricsServer =
  metrics && config.metrics.port !== undefined
    ? await startMetricsServer(metrics.registry, config.metrics.host, config.metrics.port).catch(
        (error: unknown) =>
          fail(
            `cannot serve metrics on ${config.metrics.host}:${config.metrics.port} (METRICS_HOST, METRICS_PORT)`,
            error,
          ),
      )
    : undefined;
if (metricsServer) logger.info({ url: metricsServer.url }, 'metrics listening');
const { port } = server.address() as AddressInfo;
const host = config.host.includes(':') ? `[${config.host}]` : config.host;
const url = `http://${host}:${port}/graphql`;
logger.info(
  { url, sandbox: sandbox !== undefined, openAccess, sharedState: shared ? 'redis' : 'memory' },
  'gateway listening',
);
if (openAccess) logger.warn('open access: sandbox mode without caller authentication');
process.stdout.write(startBanner({ url, sandbox, openAccess, metricsUrl: metricsServer?.url }));

/**
 * SIGTERM: `/ready` answers 503 at once, on every connection, while the listener keeps serving for
 * SHUTDOWN_DELAY_MS, so that a load balancer's health check (or Kubernetes' endpoints) takes this
 * replica out before it refuses anything; then the drain. SIGINT (a person at a terminal) skips the
 * delay.
 */
async function shutdown(signal: string) {
  // A repeated signal (a wrapper relaying it, or the whole process group getting it) changes nothing.
  if (stopping) {
    logger.info({ signal }, 'already draining');
    return;
  }
  stopping = true;
  const delayMs = signal === 'SIGTERM' ? config.shutdownDelayMs : 0;
  if (delayMs > 0) {
    logger.info(
      { signal, delayMs },
      'shutting down: /ready answers 503, still serving until balancers notice',
    );
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  logger.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down: draining in-flight requests');
  if (!(await drain.drain(config.shutdownDrainMs))) {
    logger.warn('drain deadline passed: closed the remaining connections');
  }
  await client.close();
  await shared?.close();
  await metricsServer?.close();
  await tracing?.shutdown().catch(() => logger.warn('traces could not all be exported at shutdown'));
  await sandbox?.close();
  logger.info('stopped');
  process.exit(0);
}
// Key rotation without a restart: API keys and JWT settings are read again (files included), and
// requests from then on are authenticated by them. A bad new setting keeps the previous ones, less
// every API key the file no longer lists: a removal always applies (config/load.ts).
let authInForce = config.auth;
process.on('SIGHUP', () => {
  const { auth, problem } = reloadCallerAuth(process.env, sandbox !== undefined, authInForce);
  const removed = authInForce.apiKeys.size - auth.apiKeys.size;
  authInForce = auth;
  callers.reload(auth);
  if (problem === undefined) {
    logger.info(
      { apiKeys: auth.apiKeys.size, memberJwt: auth.jwt !== undefined },
      'SIGHUP: caller authentication reloaded',
    );
  } else {
    logger.error(
      { reason: problem, apiKeys: auth.apiKeys.size, removed },
      'SIGHUP: the new settings are not valid: the previous ones kept, less the API keys no longer listed',
    );
  }
});
// `on`, not `once`: a second SIGTERM must find a handler too, or it would kill the process mid-drain.
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
