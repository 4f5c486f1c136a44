import { type DocumentNode, getOperationAST, Kind, type SelectionSetNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { unauthenticated } from '../auth/callers.js';
import { authenticatedCaller } from '../request/caller.js';

/** Root fields that never carry a token, and so may be asked for over GET. */
const allowedOverGet = new Set(['__schema', '__type', '__typename', '_service']);

function rootFields(
  selectionSet: SelectionSetNode,
  document: DocumentNode,
  seen = new Set<string>(),
): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      names.push(...rootFields(selection.selectionSet, document, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find(
        (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
      );
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION)
        names.push(...rootFields(fragment.selectionSet, document, seen));
    }
  }
  return names;
}

/** What the refusal says: what to change, for the client that most often needs telling. */
export const postForTokensMessage =
  'Operations that return tokens must be sent with POST: send this request as a POST with a JSON body (with urql, set preferGetMethod: false).';

/**
 * Refuses, with 405, a GET request whose operation selects anything but introspection, so no token
 * ever travels in a URL (proxy logs, browser history) or in a cacheable GET response. A caller
 * without credentials gets the authentication answer first (401): fixing the method alone would
 * only lead it to that one. (Wrong credentials were answered 401 before the document was parsed.)
 */
export function usePostForTokens(): Plugin {
  return {
    onParse() {
      return ({ result, context }) => {
        const { request, params } = context as { request?: Request; params?: { operationName?: string } };
        if (request?.method !== 'GET' || result instanceof Error) return;
        const operation = getOperationAST(result, params?.operationName);
        if (!operation) return; // yoga answers "Could not determine what operation to execute."
        if (rootFields(operation.selectionSet, result).every((name) => allowedOverGet.has(name))) return;
        if (request && authenticatedCaller(request)?.kind === 'anonymous') {
          throw unauthenticated(
            'Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.',
          );
        }
        throw createGraphQLError(postForTokensMessage, {
          extensions: { code: 'METHOD_NOT_ALLOWED', http: { status: 405, headers: { Allow: 'POST' } } },
        });
      };
    },
  };
}
