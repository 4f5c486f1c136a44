// docs/snippets/urql.ts
import { Client, cacheExchange, fetchExchange } from '@urql/core';

/**
 * urql 6 for the gateway, with a member's JWT. `preferGetMethod: false`: urql sends short queries
 * as GET by default, and the gateway refuses operations that return tokens over GET (405: a token
 * must never travel in a URL). `requestPolicy: 'network-only'`: its document cache would otherwise
 * answer a repeated `memberToken` with the token it already has.
 */
export function createUrqlClient(url: string, memberJwt: string) {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${memberJwt}` } }),
  });
}
