import type { IncomingMessage } from 'node:http';
import { getOperationAST } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { cookieValue } from '../auth/callers.js';
import type { Caller, CredentialKind, HeaderReader } from '../domain/types.js';
import { requestIdOf } from '../request/id.js';
import { browserRefusal } from '../request/session-cookie.js';

export interface SessionGuardOptions {
  cookieName: string;
  /** CORS_ORIGINS: the only origins a cookie request may come from. */
  origins: readonly string[] | '*';
  /** A cookie request refused (the audit trail's `auth.refused`). */
  onRefused(
    refusal: { credential: CredentialKind; reason: string },
    headers: HeaderReader,
    remoteAddress: string | undefined,
    requestId: string,
  ): void;
}

const forbidden = (message: string) =>
  new Response(JSON.stringify({ errors: [{ message, extensions: { code: 'FORBIDDEN' } }] }), {
    status: 403,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

/**
 * The session cookie's rules on yoga's path (the front door hands every request that carries the
 * cookie to yoga, unread):
 * - before the body is read, a request to `/graphql` with the cookie must be a POST of
 *   `application/json` with `x-circle-csrf: 1` from an origin in CORS_ORIGINS, else 403 and
 *   nothing runs (GraphiQL's page itself, a GET of HTML with no query, runs nothing and is served);
 * - a cookie with a bearer token runs `startSession` alone (which replaces that session), else 403.
 */
export function useSessionGuard(options: SessionGuardOptions): Plugin<{ caller?: Caller }> {
  return {
    onRequest({ request, url, endResponse, serverContext }) {
      if (url.pathname !== '/graphql' || request.method === 'OPTIONS') return;
      if (cookieValue(request.headers.get('cookie'), options.cookieName) === undefined) return;
      const page =
        request.method === 'GET' &&
        !url.searchParams.has('query') &&
        (request.headers.get('accept') ?? '').includes('text/html');
      if (page) return;
      const refusal = browserRefusal(request.method, request.headers, options.origins);
      if (!refusal) return;
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      options.onRefused(
        { credential: 'cookie', reason: refusal.reason },
        request.headers,
        req?.socket?.remoteAddress,
        requestIdOf(request),
      );
      endResponse(forbidden(refusal.message));
    },
    onExecute({ args }) {
      const caller = args.contextValue.caller;
      if (caller?.kind !== 'member' || !caller.cookie) return;
      const operation = getOperationAST(args.document, args.operationName);
      const startsOnly = operation?.selectionSet.selections.every(
        (selection) =>
          selection.kind === 'Field' &&
          (selection.name.value === 'startSession' || selection.name.value === '__typename'),
      );
      if (startsOnly) return;
      throw createGraphQLError(
        'Send either the session cookie or a bearer token, not both: only startSession takes both (it replaces the session).',
        { extensions: { code: 'FORBIDDEN', http: { status: 403 } } },
      );
    },
  };
}
