import {
  defaultExtractPersistedOperationId,
  usePersistedOperations,
} from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import type { TrustedDocuments } from '../config/trusted-documents.js';
import { authenticatedCaller } from './use-caller-authentication.js';

const refusal = (message: string, code: string) => ({ message, extensions: { code, http: { status: 400 } } });

/** Whether a request comes from the GraphiQL page this gateway serves (same origin, its path). */
function fromOwnGraphiQL(request: Request): boolean {
  const referer = request.headers.get('referer');
  if (!referer) return false;
  try {
    const from = new URL(referer);
    const to = new URL(request.url);
    return from.origin === to.origin && from.pathname === to.pathname;
  } catch {
    return false;
  }
}

/**
 * Trusted documents (`TRUSTED_DOCUMENTS`), on yoga's persisted-operations plugin: member-JWT and
 * anonymous callers (frontends) may run only the manifest's documents, named by `documentId` (the
 * GraphQL-over-HTTP proposal's field) or `extensions.persistedQuery.sha256Hash` (Apollo's); a
 * `query` from them is refused before it is parsed. Backends with an API key (routers planning
 * `_entities`, services) may still send any document, and so may GraphiQL where it is served
 * (`GRAPHIQL`, off in production): a request from the gateway's own GraphiQL page, by its
 * `Referer`. The caller is known by then: it was authenticated before the parameters were read.
 */
export function useTrustedDocuments(documents: TrustedDocuments, options: { graphiql: boolean }): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (id) => documents.get(id) ?? null,
    extractPersistedOperationId: (params, request, context) => {
      const documentId = (params as { documentId?: unknown }).documentId;
      return typeof documentId === 'string'
        ? documentId
        : defaultExtractPersistedOperationId(params, request, context);
    },
    allowArbitraryOperations: (request) =>
      authenticatedCaller(request)?.kind === 'backend' || (options.graphiql && fromOwnGraphiQL(request)),
    customErrors: {
      persistedQueryOnly: refusal(
        'Only trusted documents may be run by this caller: send the documentId of a document in the manifest instead of a query.',
        'PERSISTED_QUERY_ONLY',
      ),
      keyNotFound: refusal(
        'Send a query, or the documentId (or extensions.persistedQuery.sha256Hash) of a trusted document.',
        'PERSISTED_QUERY_ID_REQUIRED',
      ),
      notFound: refusal('No trusted document has that id.', 'PERSISTED_QUERY_NOT_FOUND'),
    },
  });
}
