// docs/snippets/apollo-client.ts
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import generated from '../../clients/possible-types.json' with { type: 'json' };

/**
 * Apollo Client 4 for the gateway, with a member's JWT. Two settings matter:
 * - `possibleTypes` from the generated file: without it Apollo Client cannot tell which union
 *   member `... on Error` applies to when introspection is off (production), and silently drops
 *   `code` and `message`;
 * - `fetchPolicy: 'no-cache'` for the token operations: the default `cache-first` answers a second
 *   `memberToken` from the cache (the same token again, no request), and `no-cache` also keeps the
 *   tokens out of the normalized cache altogether.
 */
export function createApolloClient(url: string, memberJwt: string) {
  return new ApolloClient({
    link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${memberJwt}` } }),
    cache: new InMemoryCache({ possibleTypes: generated.possibleTypes }),
    defaultOptions: {
      query: { fetchPolicy: 'no-cache' },
      mutate: { fetchPolicy: 'no-cache' },
    },
  });
}
