import {
  defaultExtractPersistedOperationId,
  usePersistedOperations,
} from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import type { TrustedDocuments } from '../config/trusted-documents.js';
import { authenticatedCaller } from '../request/caller.js';

const refusal = (message: string, code: string) => ({ message, extensions: { code, http: { status: 400 } } });

/**
 * Trusted documents (`TRUSTED_DOCUMENTS`), on yoga's persisted-operations plugin: member-JWT and
 * anonymous callers (frontends) may run only the manifest's documents, named by `documentId` (the
 * GraphQL-over-HTTP proposal's field) or `extensions.persistedQuery.sha256Hash` (Apollo's); a
 * `query` from them is refused before it is parsed. Backends with an API key (routers planning
 * `_entities`, services) may still send any document; so may a GraphiQL user who adds an
 * `x-api-key` header, which makes them a backend. A `Referer` proves nothing (any HTTP client can
 * send one), so it exempts no one. The caller is known by then: it was authenticated before the
 * parameters were read.
 */
export function useTrustedDocuments(documents: TrustedDocuments): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (id) => documents.get(id) ?? null,
    extractPersistedOperationId: (params, request, context) => {
      const documentId = (params as { documentId?: unknown }).documentId;
      return typeof documentId === 'string'
        ? documentId
        : defaultExtractPersistedOperationId(params, request, context);
    },
    allowArbitraryOperations: (request) => authenticatedCaller(request)?.kind === 'backend',
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
