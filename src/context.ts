import { type AuditLog, auditEventName } from './audit/index.js';
import { errorTraits } from './client/errors.js';
import type { Upstream } from './client/upstream.js';
import type { GatewayConfig } from './config/load.js';
import type { GatewayObserver, RequestLike, SharedFlights } from './domain/types.js';
import { createLoaders, type MemberAPIToken, type RefreshedAccessToken } from './loaders/index.js';
import type { SingleFlight } from './loaders/single-flight.js';
import type { UnusableTokens } from './loaders/unusable-tokens.js';
import type { Logger } from './logger.js';
import type { RateLimits } from './rate-limits/index.js';
import { countUpstreamCalls } from './request/access.js';
import { authenticatedCaller } from './request/caller.js';
import { callerRequestIdOf, requestIdOf } from './request/id.js';
import {
  browserRefusal,
  clearedSessionCookie,
  sessionCookie,
  setCookieOn,
} from './request/session-cookie.js';
import { traceIdOf, traceOf } from './request/trace.js';
import type { Context } from './schema/builder.js';
import type { Sessions } from './sessions/index.js';

export interface ContextDeps {
  config: Pick<
    GatewayConfig,
    'upstreamConcurrency' | 'maxUpstreamCallsPerOperation' | 'maxEntityRepresentations'
  >;
  client: Upstream;
  logger: Logger;
  rateLimits: RateLimits;
  /** Shared by all requests on purpose: concurrent refreshes of one token make one upstream call. */
  refreshFlights: SingleFlight<RefreshedAccessToken | Error>;
  /** Shared by all requests on purpose: concurrent identical mints of one caller make one upstream call. */
  mintFlights: SingleFlight<MemberAPIToken | Error>;
  /** Refresh flights across replicas (Redis), when the replicas share state. */
  sharedFlights?: SharedFlights;
  /** Tokens Circle recently called unknown, revoked or expired: answered without a call. */
  unusableTokens?: UnusableTokens;
  /** Metrics of token operations, limits and saved calls. */
  observer?: GatewayObserver;
  /** The audit trail of tokens issued, refreshed, revoked and refused. */
  audit?: AuditLog;
  /** Sessions (SESSIONS on), and the origins a browser may start one from (CORS_ORIGINS). */
  sessions?: { service: Sessions; origins: readonly string[] | '*' };
}

/** What an upstream failure is logged as, by the log level of its code (client/errors.ts). */
const upstreamLogMessages = {
  debug: 'upstream answered with an expected outcome',
  warn: 'upstream call failed',
  error: 'Circle rejected the app token: check CIRCLE_APP_TOKEN and the plan',
} as const;

/**
 * The per-request context: the request id, the caller `useCallerAuthentication` authenticated before
 * the document was parsed, and loaders built for this request.
 */
export function createContextFactory(deps: ContextDeps) {
  const { config, client, logger } = deps;

  // Synchronous: nothing here waits, and a promise would cost each request a microtask on both doors.
  return ({ request }: { request: RequestLike }): Context => {
    const requestId = requestIdOf(request);
    const callerRequestId = callerRequestIdOf(request);
    const caller = authenticatedCaller(request);
    // Every GraphQL request passes the authentication plugin first; reaching here without a caller
    // is a wiring bug, not a request to let through.
    if (!caller) throw new Error('context: the request was not authenticated');
    const { audit } = deps;
    const traced = traceOf(request);
    const traceId = traceIdOf(request);
    const loaders = createLoaders({
      api: client.api,
      concurrency: config.upstreamConcurrency,
      maxCallsPerOperation: config.maxUpstreamCallsPerOperation,
      refreshFlights: deps.refreshFlights,
      mintFlights: deps.mintFlights,
      ...(deps.sharedFlights ? { sharedFlights: deps.sharedFlights } : {}),
      ...(deps.unusableTokens ? { unusableTokens: deps.unusableTokens } : {}),
      rateLimits: deps.rateLimits,
      callerKey: caller.key,
      // A cookie naming no live session proves nothing: counted as anonymous, by address.
      anonymous:
        caller.kind === 'anonymous' ||
        (caller.kind === 'session' && (caller.cookie.session ?? 'unavailable') === 'unavailable'),
      ...(traced ? { traceContext: traced.context } : {}),
      ...(deps.observer ? { observer: deps.observer } : {}),
      onUpstreamError: (error) => {
        const level = errorTraits[error.code].logLevel;
        if (!logger.isLevelEnabled(level)) return;
        logger[level]({ requestId, code: error.code, status: error.status }, upstreamLogMessages[level]);
      },
      ...(audit
        ? {
            onOutcome: (operation, outcome, subject) => {
              const event = auditEventName(operation, outcome);
              if (!event) return;
              audit.record({
                event,
                operation,
                outcome,
                caller: { kind: caller.kind, ...(caller.kind === 'backend' ? { name: caller.name } : {}) },
                subject:
                  subject.memberId !== undefined
                    ? { memberId: String(subject.memberId) }
                    : { hash: audit.hash(subject.identifier) },
                requestId,
                ...(callerRequestId ? { callerRequestId } : {}),
                ...(traceId ? { traceId } : {}),
              });
            },
          }
        : {}),
      ...(audit
        ? {
            onRefusals: (code, { fields, identifiers }) => {
              const hashes = [...new Set(identifiers)].map((identifier) => audit.hash(identifier));
              audit.record({
                event: 'token.refused',
                operation: 'issue',
                outcome: code,
                caller: { kind: caller.kind, ...(caller.kind === 'backend' ? { name: caller.name } : {}) },
                ...(hashes.length === 1 && hashes[0]
                  ? { subject: { hash: hashes[0] } }
                  : { subjects: hashes }),
                count: fields,
                requestId,
                ...(callerRequestId ? { callerRequestId } : {}),
                ...(traceId ? { traceId } : {}),
              });
            },
          }
        : {}),
    });
    countUpstreamCalls(request, loaders.upstreamCalls);
    const sessions = deps.sessions;
    return {
      requestId,
      caller,
      loaders,
      maxEntityRepresentations: config.maxEntityRepresentations,
      ...(sessions
        ? {
            sessions: {
              mode: sessions.service.settings.mode,
              service: sessions.service,
              browserRefusal: () =>
                browserRefusal(request.method, request.headers, sessions.origins)?.message,
              setCookie: (value, maxAgeS) =>
                setCookieOn(request, sessionCookie(sessions.service.settings.cookieName, value, maxAgeS)),
              clearCookie: () =>
                setCookieOn(request, clearedSessionCookie(sessions.service.settings.cookieName)),
            },
          }
        : {}),
    };
  };
}
