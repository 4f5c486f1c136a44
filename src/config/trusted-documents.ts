import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';

/**
 * A trusted-documents manifest (persisted operations, Apollo's safelist): the documents member-JWT
 * and anonymous callers may run, by id. Two shapes are read: a JSON object of id → document (what
 * graphql-codegen's persisted documents and Relay emit), and Apollo's persisted query manifest
 * (`{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id", "body" }] }`).
 * Every document must parse, and an id that is a SHA-256 (64 hex digits, optionally `sha256:`
 * before them) must be the hash of its document: a manifest that does not hold together stops
 * start-up with the entry named, rather than refusing callers later.
 */
export type TrustedDocuments = ReadonlyMap<string, string>;

export function loadTrustedDocuments(path: string): TrustedDocuments {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not JSON';
    throw new Error(`expected a readable JSON manifest, got ${JSON.stringify(path)} (${reason})`);
  }
  const entries = manifestEntries(json);
  if (entries.length === 0) throw new Error(`expected at least one document in ${JSON.stringify(path)}`);
  const documents = new Map<string, string>();
  for (const [id, body] of entries) {
    if (typeof body !== 'string' || id === '')
      throw new Error(`entry ${JSON.stringify(id)}: expected a document`);
    try {
      parse(body);
    } catch {
      throw new Error(`entry ${JSON.stringify(id)}: the document does not parse`);
    }
    const hash = /^(?:sha256:)?([0-9a-f]{64})$/.exec(id)?.[1];
    if (hash && createHash('sha256').update(body).digest('hex') !== hash) {
      throw new Error(`entry ${JSON.stringify(id)}: the id is not the SHA-256 of its document`);
    }
    documents.set(id, body);
    // A `documentId` may carry the algorithm or not: both find it.
    if (hash) documents.set(id.startsWith('sha256:') ? hash : `sha256:${hash}`, body);
  }
  return documents;
}

function manifestEntries(json: unknown): [string, unknown][] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [];
  const manifest = json as { format?: unknown; operations?: unknown };
  if (manifest.format === 'apollo-persisted-query-manifest') {
    if (!Array.isArray(manifest.operations)) return [];
    return manifest.operations.map((operation: { id?: unknown; body?: unknown }) => [
      String(operation?.id ?? ''),
      operation?.body,
    ]);
  }
  return Object.entries(json);
}
