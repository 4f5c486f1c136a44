// docs/snippets/session-apollo-client.ts
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import generated from '../../clients/possible-types.json' with { type: 'json' };

/**
 * Apollo Client 4 on sessions: the cookie sent (`credentials: 'include'`) with the CSRF header on
 * every call, `possibleTypes` so `... on Error` keeps `code` and `message` with introspection off,
 * and no cache for tokens. Start the session with the member's JWT in that one operation's context:
 * `client.mutate({ mutation: StartSessionDocument, context: { headers: { authorization } } })`.
 */
export function createApolloSessionClient(url: string, fetchImpl?: typeof fetch) {
  return new ApolloClient({
    link: new HttpLink({
      uri: url,
      credentials: 'include',
      headers: { 'x-circle-csrf': '1' },
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    }),
    cache: new InMemoryCache({ possibleTypes: generated.possibleTypes }),
    defaultOptions: {
      query: { fetchPolicy: 'no-cache' },
      mutate: { fetchPolicy: 'no-cache' },
    },
  });
}
