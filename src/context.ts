import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import { AuthUnavailableError, type CallerAuthentication } from './auth/callers.js';
import { errorTraits } from './client/errors.js';
import type { Upstream } from './client/upstream.js';
import type { GatewayConfig } from './config/load.js';
import type { Caller } from './domain/types.js';
import { createLoaders, type RefreshedAccessToken } from './loaders/index.js';
import type { SingleFlight } from './loaders/single-flight.js';
import type { Logger } from './logger.js';
import { requestIdOf } from './plugins/use-request-id.js';
import type { RateLimits } from './rate-limits/index.js';
import type { Context } from './schema/builder.js';

export interface ContextDeps {
  config: Pick<GatewayConfig, 'upstreamConcurrency' | 'maxUpstreamCallsPerOperation'> & {
    openAccess: boolean;
  };
  /** Who is asking: replaceable at run time (SIGHUP). */
  callers: CallerAuthentication;
  client: Upstream;
  logger: Logger;
  rateLimits: RateLimits;
  /** Shared by all requests on purpose: concurrent refreshes of one token make one upstream call. */
  refreshFlights: SingleFlight<RefreshedAccessToken>;
}

/** What an upstream failure is logged as, by the log level of its code (client/errors.ts). */
const upstreamLogMessages = {
  debug: 'upstream answered with an expected outcome',
  warn: 'upstream call failed',
  error: 'Circle rejected the app token: check CIRCLE_APP_TOKEN and the plan',
} as const;

/**
 * The per-request context: the request id, the authenticated caller (a wrong credential ends the
 * request here with 401; an unreachable JWKS with a logged 503) and loaders built for this request.
 */
export function createContextFactory(deps: ContextDeps) {
  const { config, client, logger } = deps;

  async function callerOf(
    request: Request,
    req: IncomingMessage | undefined,
    requestId: string,
  ): Promise<Caller> {
    let caller: Caller;
    try {
      caller = await deps.callers.authenticate(request.headers, req?.socket?.remoteAddress);
    } catch (error) {
      if (!(error instanceof AuthUnavailableError)) throw error;
      logger.error(
        { requestId, err: { name: error.name, message: error.message } },
        'caller authentication unavailable',
      );
      throw new GraphQLError('Caller authentication is unavailable right now; try again shortly.', {
        extensions: { code: 'AUTH_UNAVAILABLE', requestId, http: { status: 503 } },
      });
    }
    return caller.kind === 'anonymous' && config.openAccess
      ? { kind: 'backend', name: 'open-sandbox', key: caller.key }
      : caller;
  }

  return async ({ request, req }: YogaInitialContext & { req?: IncomingMessage }): Promise<Context> => {
    const requestId = requestIdOf(request);
    const caller = await callerOf(request, req, requestId);
    return {
      requestId,
      caller,
      loaders: createLoaders({
        api: client.api,
        concurrency: config.upstreamConcurrency,
        maxCallsPerOperation: config.maxUpstreamCallsPerOperation,
        refreshFlights: deps.refreshFlights,
        rateLimits: deps.rateLimits,
        callerKey: caller.key,
        onUpstreamError: (error) => {
          const level = errorTraits[error.code].logLevel;
          if (!logger.isLevelEnabled(level)) return;
          logger[level]({ requestId, code: error.code, status: error.status }, upstreamLogMessages[level]);
        },
      }),
    };
  };
}
