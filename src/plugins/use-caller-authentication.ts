import type { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { type CallerAuthentication, type Refusal, refusalOf } from '../auth/callers.js';
import { AuthUnavailableError, type JwksObserver } from '../auth/jwks.js';
import type { Caller, HeaderReader } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { handedOverVerdict, rememberCaller } from '../request/caller.js';
import { requestIdOf } from '../request/id.js';

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

export interface CallerAuthenticationOptions {
  callers: CallerAuthentication;
  /** Sandbox mode without caller authentication configured: an anonymous caller acts as a backend. */
  openAccess: boolean;
  logger: Logger;
  /** A credential refused (the audit trail's `auth.refused`), on either door. */
  onRefused?(
    refusal: Refusal,
    headers: HeaderReader,
    remoteAddress: string | undefined,
    requestId: string,
  ): void;
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
        const verdict = handedOverVerdict(req);
        if (verdict instanceof Error) throw verdict;
        caller = verdict ?? (await options.callers.authenticate(request.headers, req?.socket?.remoteAddress));
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal)
          options.onRefused?.(refusal, request.headers, req?.socket?.remoteAddress, requestIdOf(request));
        if (!(error instanceof AuthUnavailableError)) throw error;
        // The outage itself is logged once, when it starts (jwksLogging); each refusal at debug.
        const requestId = requestIdOf(request);
        options.logger.debug({ requestId }, 'caller authentication unavailable');
        throw createGraphQLError('Caller authentication is unavailable right now; try again shortly.', {
          extensions: { code: 'AUTH_UNAVAILABLE', requestId, http: { status: 503 } },
        });
      }
      rememberCaller(request, caller, { openAccess: options.openAccess });
    },
  };
}
