import type { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { AuthUnavailableError, type CallerAuthentication } from '../auth/callers.js';
import { requestSlot } from '../domain/request-slot.js';
import type { Caller, RequestLike } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

const callers = requestSlot<Caller>('caller');

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
        caller = await options.callers.authenticate(request.headers, req?.socket?.remoteAddress);
      } catch (error) {
        if (!(error instanceof AuthUnavailableError)) throw error;
        const requestId = requestIdOf(request);
        options.logger.error(
          { requestId, err: { name: error.name, message: error.message } },
          'caller authentication unavailable',
        );
        throw createGraphQLError('Caller authentication is unavailable right now; try again shortly.', {
          extensions: { code: 'AUTH_UNAVAILABLE', requestId, http: { status: 503 } },
        });
      }
      rememberCaller(request, caller, options.openAccess);
    },
  };
}
