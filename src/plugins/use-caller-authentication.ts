import type { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { CallerAuthentication } from '../auth/callers.js';
import { AuthUnavailableError, type JwksObserver } from '../auth/jwks.js';
import { requestSlot } from '../domain/request-slot.js';
import type { Caller, RequestLike } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

const callers = requestSlot<Caller>('caller');

/**
 * What the front door (hot-path/) already decided about a node:http request it hands to yoga:
 * the caller, or the error its credential got. Yoga's path takes it as it is, so a request is
 * never authenticated twice (nor its JWKS fetched twice).
 */
const decided = new WeakMap<IncomingMessage, Caller | Error>();

/** The front door's verdict on `req`, for yoga's path to take over. */
export function handOverVerdict(req: IncomingMessage, verdict: Caller | Error): void {
  decided.set(req, verdict);
}

/** The member JWT key set's outages, logged once when each starts and once when it ends. */
export function jwksLogging(logger: Logger): JwksObserver {
  return {
    unavailable: (reason, servingCachedKeys) =>
      logger.error(
        { reason, servingCachedKeys },
        servingCachedKeys
          ? 'member JWT key set unreachable: verifying with the keys fetched before'
          : 'member JWT key set unreachable: member JWTs answered 503 AUTH_UNAVAILABLE',
      ),
    recovered: () => logger.info('member JWT key set reachable again'),
  };
}

/** The caller `useCallerAuthentication` found for a request: what the context factory builds on. */
export function authenticatedCaller(request: RequestLike): Caller | undefined {
  return callers.get(request);
}

export interface CallerAuthenticationOptions {
  callers: CallerAuthentication;
  /** Sandbox mode without caller authentication configured: an anonymous caller acts as a backend. */
  openAccess: boolean;
  logger: Logger;
}

/**
 * Records the caller of `request`; in open-access sandbox mode an anonymous caller acts as a
 * backend. Returns the caller recorded.
 */
export function rememberCaller(request: RequestLike, caller: Caller, openAccess: boolean): Caller {
  const recorded: Caller =
    caller.kind === 'anonymous' && openAccess
      ? { kind: 'backend', name: 'open-sandbox', key: caller.key }
      : caller;
  callers.set(request, recorded);
  return recorded;
}

/**
 * Authenticates the caller from the request's headers before its body is read or its document
 * parsed, so a wrong credential costs no parsing and fills no cache: 401 UNAUTHENTICATED then; an
 * unreachable JWKS a logged 503 AUTH_UNAVAILABLE. A caller without credentials is `anonymous`
 * (keyed by its address), which the schema's rules then hold to what anyone may do.
 */
export function useCallerAuthentication(options: CallerAuthenticationOptions): Plugin {
  return {
    async onRequestParse({ request, serverContext }) {
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      let caller: Caller;
      try {
        const verdict = req && decided.get(req);
        if (verdict instanceof Error) throw verdict;
        caller = verdict ?? (await options.callers.authenticate(request.headers, req?.socket?.remoteAddress));
      } catch (error) {
        if (!(error instanceof AuthUnavailableError)) throw error;
        // The outage itself is logged once, when it starts (jwksLogging); each refusal at debug.
        const requestId = requestIdOf(request);
        options.logger.debug({ requestId }, 'caller authentication unavailable');
        throw createGraphQLError('Caller authentication is unavailable right now; try again shortly.', {
          extensions: { code: 'AUTH_UNAVAILABLE', requestId, http: { status: 503 } },
        });
      }
      rememberCaller(request, caller, options.openAccess);
    },
  };
}
