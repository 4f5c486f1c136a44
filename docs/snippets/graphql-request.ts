// docs/snippets/graphql-request.ts
import { ClientError, GraphQLClient } from 'graphql-request';

/** graphql-request 7 for the gateway, with a member's JWT. */
export function createGraphQLRequestClient(url: string, memberJwt: string) {
  return new GraphQLClient(url, { headers: { authorization: `Bearer ${memberJwt}` } });
}

/**
 * What to log when a request fails. graphql-request's `ClientError` message includes the whole
 * request, variables too: a refresh token, an email. Log this summary (HTTP status and the error
 * codes) instead of the error or its message.
 */
export function safeErrorSummary(error: unknown): string {
  if (!(error instanceof ClientError)) return error instanceof Error ? error.name : 'unknown error';
  const codes = (error.response.errors ?? []).map((e) => String(e.extensions?.code ?? 'no code'));
  return `GraphQL request failed: HTTP ${error.response.status}${codes.length ? ` (${codes.join(', ')})` : ''}`;
}
