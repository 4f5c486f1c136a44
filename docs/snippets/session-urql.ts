// docs/snippets/session-urql.ts
import { Client, cacheExchange, fetchExchange } from '@urql/core';

/**
 * urql 6 on sessions: POST (`preferGetMethod: false`), no document cache (`network-only`), the
 * cookie sent and the CSRF header on every call. Start the session with the member's JWT as that
 * one operation's header: `client.mutation(StartSessionDocument, {}, startWith(jwt))`.
 */
export function createUrqlSessionClient(url: string, fetchImpl?: typeof fetch) {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({ credentials: 'include', headers: { 'x-circle-csrf': '1' } }),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** The context that sends the member's JWT with `startSession` (urql replaces, not merges, fetchOptions). */
export const startWith = (memberJwt: string) => ({
  fetchOptions: {
    credentials: 'include' as const,
    headers: { 'x-circle-csrf': '1', authorization: `Bearer ${memberJwt}` },
  },
});
