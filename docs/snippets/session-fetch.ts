// docs/snippets/session-fetch.ts

import { print } from 'graphql';
import { EndSessionDocument, SessionTokenDocument, StartSessionDocument } from '../../clients/operations.js';

/**
 * Sessions with plain fetch. Every call sends the session cookie (`credentials: 'include'`) and
 * `x-circle-csrf: 1`, which marks it as the page's own and forces a CORS preflight that only an
 * origin in CORS_ORIGINS passes; a cookie request without it is refused (403) before anything runs.
 * The member's JWT goes along once, to `startSession`; the page never holds a refresh token.
 */
export function sessionCalls(url: string, fetchImpl: typeof fetch = fetch) {
  const call = async (document: Parameters<typeof print>[0], headers: Record<string, string> = {}) => {
    const response = await fetchImpl(url, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json', 'x-circle-csrf': '1', ...headers },
      body: JSON.stringify({ query: print(document) }),
    });
    return (await response.json()).data;
  };
  return {
    start: async (memberJwt: string) =>
      (await call(StartSessionDocument, { authorization: `Bearer ${memberJwt}` })).startSession,
    /** The access token: ask again when it nears `accessTokenExpiresAt` (no upstream call until then). */
    token: async () => (await call(SessionTokenDocument)).sessionToken,
    end: async () => (await call(EndSessionDocument)).endSession,
  };
}
