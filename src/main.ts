/**
 * `npm start`: reads the environment, starts the embedded sandbox when no CIRCLE_APP_TOKEN is set,
 * and serves the gateway until SIGTERM or SIGINT, then drains and exits 0. It composes and listens;
 * each part lives in its own module (start-up failures in start-up.ts, signals in signals.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { auditEmailHash } from './audit/index.js';
import { startBanner } from './banner.js';
import { createUpstream } from './client/upstream.js';
import { exitOnCrash } from './crash.js';
import { trackForDrain } from './drain.js';
import { createLogger, type EmailHasher, stdoutDestination } from './logger.js';
import { createMetrics } from './metrics/index.js';
import { assignRequestIds } from './request/id.js';
import { createGateway } from './server.js';
import { handleSignals } from './signals.js';
import {
  auditOrExit,
  configOrExit,
  listenOrExit,
  metricsServerOrExit,
  sandboxIfNeeded,
  sharedStateIfConfigured,
} from './start-up.js';
import { startTracing } from './tracing/index.js';

const config = configOrExit(process.env);
// How far the heap may grow past what is live before a full collection. V8's own factor lets a busy
// gateway's old generation grow to several times its live size (bench/README.md, memory). Set
// before the first request; V8 reads it at each collection.
if (config.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
const stdout = stdoutDestination();
// Emails in log lines get the audit trail's keyed hash once its key is known (below).
const emails: EmailHasher = {};
const logger = createLogger(config.logLevel, stdout, emails);
exitOnCrash(logger);
// Before anything makes a span: the provider, the W3C propagator and the context manager.
const tracing = await startTracing(config.tracing);
const sandbox = await sandboxIfNeeded(config);
const metrics = config.metrics.port === undefined ? undefined : createMetrics();
const appToken = sandbox?.appToken ?? (config.circleAppToken as string);
const audit = auditOrExit(config, appToken, stdout);
emails.hash = auditEmailHash(audit);
const client = createUpstream({
  ...(metrics ? { observer: metrics.upstream } : {}),
  appToken,
  baseURL: sandbox?.url ?? config.circleBaseUrl,
  deadlineMs: config.upstreamTimeoutMs,
  connectTimeoutMs: config.upstreamConnectTimeoutMs,
  connections: config.upstreamConnections,
  spans: tracing !== undefined,
});
const shared = await sharedStateIfConfigured(config, appToken, logger);
const exampleMember = sandbox?.simulator.members[0];
// load.ts has already refused to start outside sandbox mode without caller authentication.
const openAccess = sandbox !== undefined && config.auth.apiKeys.size === 0 && config.auth.jwt === undefined;
let stopping = () => false;
const gateway = createGateway(
  { ...config, openAccess },
  {
    client,
    logger,
    audit,
    ...(shared ? { shared } : {}),
    sessions: { ...(shared ? { store: shared.sessions } : {}), appToken },
    ...(metrics ? { metrics } : {}),
    ...(exampleMember ? { exampleMember } : {}),
    sandbox: sandbox !== undefined,
    draining: () => stopping(),
    tracing: tracing !== undefined,
  },
);
const server = createServer(assignRequestIds(gateway.nodeListener));
const drain = trackForDrain(server);
await listenOrExit(server, config.host, config.port, 'HOST, PORT');
const metricsServer = metrics && (await metricsServerOrExit(config, metrics.registry));
if (metricsServer) logger.info({ url: metricsServer.url }, 'metrics listening');
const { port } = server.address() as AddressInfo;
const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/graphql`;
logger.info(
  { url, sandbox: sandbox !== undefined, openAccess, sharedState: shared ? 'redis' : 'memory' },
  'gateway listening',
);
if (openAccess) logger.warn('open access: sandbox mode without caller authentication');
if (config.sessions && !shared)
  logger.warn(
    'sessions in process memory: for one replica only, and lost on restart (set REDIS_URL to share them)',
  );
process.stdout.write(startBanner({ url, sandbox, openAccess, metricsUrl: metricsServer?.url }));
stopping = handleSignals({
  config,
  logger,
  drain,
  callers: gateway.callers,
  sandbox: sandbox !== undefined,
  close: [
    async () => gateway.stop(),
    () => client.close(),
    async () => shared?.close(),
    async () => metricsServer?.close(),
    async () => tracing?.shutdown().catch(() => logger.warn('traces could not all be exported at shutdown')),
    async () => sandbox?.close(),
  ],
});
