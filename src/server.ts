import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import type { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { AuditLog } from './audit/index.js';
import { createRefusalAudit } from './audit/refusals.js';
import { type CallerAuthentication, createCallerAuthentication } from './auth/callers.js';
import { clientAddress } from './auth/client-address.js';
import type { Upstream } from './client/upstream.js';
import type { GatewayConfig } from './config/load.js';
import type { TrustedDocuments } from './config/trusted-documents.js';
import { createContextFactory } from './context.js';
import type { HeaderReader, SharedFlights } from './domain/types.js';
import { exampleOperations } from './graphiql.js';
import { createHotPath } from './hot-path/index.js';
import { gatewayRevocations, type MemberAPIToken, type RefreshedAccessToken } from './loaders/index.js';
import { SingleFlight } from './loaders/single-flight.js';
import { UnusableTokens, unusableTokenLimits } from './loaders/unusable-tokens.js';
import { type Logger, yogaLogger } from './logger.js';
import type { Metrics } from './metrics/index.js';
import { useBodyLimit } from './plugins/use-body-limit.js';
import { jwksLogging, useCallerAuthentication } from './plugins/use-caller-authentication.js';
import { useCsrfPrevention } from './plugins/use-csrf-prevention.js';
import { useDisableIntrospection } from './plugins/use-disable-introspection.js';
import { useDocumentLimits } from './plugins/use-document-limits.js';
import { graphiqlPage } from './plugins/use-graphiql-page.js';
import { usePostForTokens } from './plugins/use-post-for-tokens.js';
import { useReadiness } from './plugins/use-readiness.js';
import { useRequestGuards } from './plugins/use-request-guards.js';
import { useRequestLifecycle } from './plugins/use-request-lifecycle.js';
import { useSessionGuard } from './plugins/use-session-guard.js';
import { useSupportedOperations } from './plugins/use-supported-operations.js';
import { useTrustedDocuments } from './plugins/use-trusted-documents.js';
import { createRateLimits, type SharedCounterStore } from './rate-limits/index.js';
import { boundedDocumentCache, compileOnRepeat } from './request/document-cache.js';
import {
  accessLogStep,
  errorLoggingStep,
  maskUnexpected,
  noStoreStep,
  RequestLifecycle,
  releaseStep,
  requestIdStep,
  traceStep,
} from './request/lifecycle.js';
import { listedOrigin, sessionCookieStep } from './request/session-cookie.js';
import type { Context } from './schema/builder.js';
import { releaseRequest } from './schema/builder.js';
import { schema } from './schema/index.js';
import {
  createSessions,
  memorySessionStore,
  type SessionStore,
  type Sessions,
  sweepEvery,
} from './sessions/index.js';

export type GatewayOptions = Pick<
  GatewayConfig,
  | 'graphiql'
  | 'introspection'
  | 'upstreamConcurrency'
  | 'maxUpstreamCallsPerOperation'
  | 'maxEntityRepresentations'
  | 'maxRequestBodyBytes'
  | 'corsOrigins'
  | 'auth'
  | 'documentLimits'
  | 'rateLimits'
> & {
  /** Sessions (SESSIONS); unset: off. */
  sessions?: GatewayConfig['sessions'];
  /** Sandbox mode with no caller authentication configured: anyone may get any member's tokens. */
  openAccess: boolean;
  /** Compile a document with graphql-jit on its second run (GRAPHQL_JIT); default true. */
  graphqlJit?: boolean;
  /** The documents member-JWT and anonymous callers are held to (`TRUSTED_DOCUMENTS`). */
  trustedDocuments?: TrustedDocuments | undefined;
};

export interface GatewayDeps {
  /** The Circle client (`createUpstream`, or the SDK facade, which is one too). */
  client: Upstream;
  logger: Logger;
  /** Caller authentication, when the caller wants to reload it (SIGHUP); else built from `config.auth`. */
  callers?: CallerAuthentication;
  /** The audit trail (audit/index.ts). */
  audit?: AuditLog;
  /** Prometheus metrics (metrics/index.ts); the client given here should report to `metrics.upstream`. */
  metrics?: Metrics;
  /**
   * State the replicas share (redis/): the limits' counters and refresh flights. Without it, both
   * live in this process.
   */
  shared?: { store: SharedCounterStore; flights: SharedFlights };
  /** The member GraphiQL's examples use (in sandbox mode, the first demo member). */
  exampleMember?: { email: string; id: number; ssoId: string };
  /** The upstream is the embedded sandbox (said by `/ready`). */
  sandbox?: boolean;
  /** True once the process is shutting down: `/ready` answers 503 from then on. */
  draining?: () => boolean;
  /**
   * Traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT): each request gets a span. Without it no span
   * is made: with no exporter and no propagator, a span would record nothing, not even the caller's
   * trace id, and cost every request a few µs of context objects (bench/README.md).
   */
  tracing?: boolean;
  /**
   * Where sessions are kept (Redis when the replicas share state), and the app token their ids are
   * keyed from. Without it, with SESSIONS on: this process's memory, keyed from a random secret.
   */
  sessions?: { store?: SessionStore; appToken: string };
  /** The clock sessions judge expiry and idleness by (tests move it with the sandbox's); default the wall clock. */
  now?: () => number;
}

export type Gateway = YogaServerInstance<Record<string, unknown>, Context> & {
  /**
   * The node:http listener: the hot path (hot-path/) in front of yoga's own `requestListener`,
   * which gets everything the hot path does not serve. `gateway.fetch` is yoga alone.
   */
  nodeListener(req: IncomingMessage, res: ServerResponse): void;
  /** The gateway's plugins by name, in the order yoga runs them (before yoga's own). */
  composedPlugins: readonly NamedPlugin[];
  /** Caller authentication in force: `SIGHUP` reloads it. */
  callers: CallerAuthentication;
  /** Sessions, when SESSIONS is on (the sweep runs on a timer; tests call it too). */
  sessions: Sessions | undefined;
  /** Stops the gateway's timers (the session sweep, the refusal summaries), writing what they hold. */
  stop(): void;
};

/** A plugin of the gateway's, and the name the front door's hook list knows it by. */
export type NamedPlugin = readonly [name: string, plugin: Plugin];

/**
 * The gateway as a yoga instance: `gateway.fetch(...)` in tests, a node:http server in main.
 * Plugin order: graphql-jit first, as it supplies the executor; request id and no-store stamp every
 * response, errors included (onResponse hooks run for every response wherever they stand); then,
 * in this order and before any body is read or document parsed, the request guards (method,
 * Content-Type, Accept, URL parameters), the body limit, caller authentication and the CSRF check;
 * document limits, the GET guard and the subscription refusal run at parse and validation, before
 * execution; error logging sees each original error before yoga's own masking, which yoga adds
 * after every plugin listed here.
 */
export function createGateway(config: GatewayOptions, deps: GatewayDeps): Gateway {
  const { client, logger } = deps;
  // Shared by all requests on purpose: concurrent refreshes of one token make one upstream call.
  const refreshFlights = new SingleFlight<RefreshedAccessToken | Error>();
  // Joined per caller and member while in flight: a page and its API route minting at once, one call.
  const mintFlights = new SingleFlight<MemberAPIToken | Error>();
  const rateLimits = createRateLimits(config.rateLimits, deps.shared?.store);
  deps.metrics?.watch({
    breakerOpen: () => client.breakerState() !== 'closed',
    budgetRemaining: () => rateLimits.budgetRemaining(),
    sharing: () => rateLimits.sharing(),
  });
  const repeated = compileOnRepeat();
  const sessions = config.sessions
    ? createSessions({
        settings: config.sessions,
        store: deps.sessions?.store ?? memorySessionStore(deps.now),
        appToken: deps.sessions?.appToken ?? randomBytes(32).toString('base64url'),
        revoke: gatewayRevocations(client.api, rateLimits),
        ...(deps.audit ? { audit: deps.audit } : {}),
        ...(deps.metrics ? { observer: deps.metrics.gateway } : {}),
        logger,
        ...(deps.now ? { now: deps.now } : {}),
      })
    : undefined;
  const stopSweeping = sessions && sweepEvery(sessions, logger);
  const callerAuthentication =
    deps.callers ??
    createCallerAuthentication(config.auth, {
      jwks: jwksLogging(logger),
      ...(sessions
        ? { sessions: { cookieName: sessions.settings.cookieName, read: (value) => sessions.cookie(value) } }
        : {}),
    });
  const address = clientAddress(config.auth.trustedProxies);
  const refusals = deps.audit && createRefusalAudit({ audit: deps.audit });
  const onRefused = (
    refusal: Parameters<NonNullable<typeof refusals>['refused']>[0],
    headers: HeaderReader,
    remoteAddress: string | undefined,
    requestId: string,
  ) => {
    deps.metrics?.gateway.authRefused(refusal.credential, refusal.reason);
    refusals?.refused(
      refusal,
      address(remoteAddress, headers.get('x-forwarded-for')) ?? 'unknown',
      requestId,
    );
  };
  const context = createContextFactory({
    config,
    client,
    logger,
    rateLimits,
    refreshFlights,
    mintFlights,
    // Shared by all requests: junk sent again is answered without asking Circle again.
    unusableTokens: new UnusableTokens(unusableTokenLimits),
    ...(deps.shared ? { sharedFlights: deps.shared.flights } : {}),
    ...(deps.metrics ? { observer: deps.metrics.gateway } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(sessions ? { sessions: { service: sessions, origins: config.corsOrigins } } : {}),
  });
  const yogaLogging = yogaLogger(logger);
  const page = graphiqlPage(async (options) =>
    (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
  );
  // What every request gets at its start and end, on both doors, in this order.
  const lifecycle = new RequestLifecycle([
    requestIdStep,
    noStoreStep,
    ...(sessions ? [sessionCookieStep] : []),
    ...(deps.tracing ? [traceStep] : []),
    accessLogStep(logger),
    errorLoggingStep(logger),
    ...(deps.metrics ? [deps.metrics.step()] : []),
    releaseStep(releaseRequest),
  ]);
  const hotPath = createHotPath({
    authenticate: callerAuthentication.authenticate,
    openAccess: config.openAccess,
    backendsOnly: config.trustedDocuments !== undefined,
    ...(sessions ? { sessionCookie: sessions.settings.cookieName } : {}),
    maxBodyBytes: config.maxRequestBodyBytes,
    lifecycle,
    // What yoga's own handleError does with the `maskedErrors` below.
    failure: (error) => {
      const masked = maskUnexpected(error, 'Unexpected error.', false) as GraphQLError;
      if (masked !== error) yogaLogging.error(error);
      return [masked];
    },
    logger,
    ...(deps.metrics ? { graphql: deps.metrics.graphql } : {}),
  });

  // Each plugin by name: the front door's list (hot-path/plugin-hooks.ts) accounts for every hook.
  const plugins: NamedPlugin[] = [
    // Executes through queries compiled once per document that runs again (about a quarter less
    // CPU per repeated operation); a one-off document runs on graphql-js, never compiled.
    [
      'graphql-jit',
      useGraphQlJit(
        {},
        {
          enableIf: (args) => config.graphqlJit !== false && repeated(args),
          onError: (result) =>
            logger.error(
              { errors: result.errors?.map((e) => e.message) },
              'graphql-jit could not compile a document',
            ),
        },
      ) as Plugin,
    ],
    // Before the lifecycle, which stamps every response, so the kept page is stamped too.
    ['graphiql page', page.plugin],
    ['request lifecycle', useRequestLifecycle(lifecycle)],
    ['request guards', useRequestGuards()],
    ...(sessions
      ? [
          [
            'session guard',
            useSessionGuard({
              cookieName: sessions.settings.cookieName,
              origins: config.corsOrigins,
              onRefused,
            }),
          ] as NamedPlugin,
        ]
      : []),
    ['body limit', useBodyLimit(config.maxRequestBodyBytes)],
    [
      'caller authentication',
      useCallerAuthentication({
        callers: callerAuthentication,
        openAccess: config.openAccess,
        logger,
        onRefused,
      }),
    ],
    ...(config.trustedDocuments
      ? [['trusted documents', useTrustedDocuments(config.trustedDocuments)] as NamedPlugin]
      : []),
    ['introspection switch', useDisableIntrospection({ disabled: !config.introspection })],
    ['csrf prevention', useCsrfPrevention()],
    ...useDocumentLimits(config.documentLimits, { introspection: config.introspection }),
    ['post for tokens', usePostForTokens()],
    ['supported operations', useSupportedOperations()],
    [
      'readiness',
      useReadiness(client, {
        sharing: () => rateLimits.sharing(),
        ...(deps.sandbox ? { sandbox: true } : {}),
        ...(deps.draining ? { draining: deps.draining } : {}),
      }),
    ],
  ];

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    batching: false,
    multipart: false,
    // Same-origin only unless CORS_ORIGINS says otherwise (yoga's default would reflect any origin,
    // with credentials). Decided per request: a listed origin gets itself back (with credentials
    // when sessions are on), any other none at all; a static list would hand its first origin, or
    // `null`, to strangers. `*` is any origin and never credentials (refused with sessions).
    cors: (request) => {
      const origins = config.corsOrigins;
      if (origins.length === 0) return false;
      const origin = request.headers.get('origin');
      if (origins !== '*' && !listedOrigin(origin, origins)) return false;
      return {
        origin: origins === '*' ? '*' : (origin as string),
        methods: ['GET', 'POST', 'OPTIONS'],
        allowedHeaders: [
          'content-type',
          'authorization',
          'x-api-key',
          'x-request-id',
          'x-graphql-yoga-csrf',
          ...(sessions ? ['x-circle-csrf'] : []),
        ],
        exposedHeaders: ['x-request-id'],
        credentials: sessions !== undefined && origins !== '*',
      };
    },
    // Enforced by useBodyLimit, by Content-Length, at a fraction of the cost of yoga's stream limiter.
    maxRequestBodySize: false,
    maskedErrors: { isDev: false, maskError: maskUnexpected },
    logging: yogaLogging,
    graphiql: config.graphiql
      ? {
          title: 'circle-auth-gateway',
          // GraphiQL never sends the session cookie: its requests carry no x-circle-csrf header and
          // would be refused; someone exploring uses an API key or a member JWT.
          credentials: 'omit',
          defaultQuery: exampleOperations(
            deps.exampleMember ?? { email: 'member@example.com', id: 1, ssoId: 'your-sso-user-id' },
          ),
        }
      : false,
    // The page's bundle is ~45 MiB of heap once loaded: only when GraphiQL is first asked for; then
    // rendered once and kept compressed (plugins/use-graphiql-page.ts).
    renderGraphiQL: page.render,
    // Bounded by count and size; documents over 16 KiB are never kept (plugins/document-cache.ts).
    parserAndValidationCache: {
      documentCache: boundedDocumentCache(),
      errorCache: boundedDocumentCache(),
      validationCache: true,
    },
    context,
    plugins: plugins.map(([, plugin]) => plugin),
  });
  const yogaListener = (req: IncomingMessage, res: ServerResponse) => void yoga.requestListener(req, res);
  return Object.assign(yoga, {
    composedPlugins: plugins,
    callers: callerAuthentication,
    sessions,
    stop() {
      stopSweeping?.();
      refusals?.flush();
    },
    nodeListener: hotPath.listener(yogaListener, (context) => yoga.getEnveloped(context)),
  });
}
