import { type DocumentNode, Kind, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * What yoga may keep of the documents it parsed. Its default keeps 1024 of any size for an hour,
 * keyed by the full text: 600 documents of 95 kB from anyone grew the process by hundreds of MiB.
 * Real clients send a few small documents again and again; a large one-off document is parsed,
 * used and dropped. Bounded by count and by the total length of the documents kept.
 */
export interface DocumentCacheLimits {
  /** Documents kept at most. */
  maxEntries: number;
  /** Total length of the documents kept, in characters. */
  maxTotalChars: number;
  /** A longer document is never kept. */
  maxEntryChars: number;
}

export const documentCacheLimits: DocumentCacheLimits = {
  maxEntries: 1000,
  maxTotalChars: 2 * 1024 * 1024,
  maxEntryChars: 16 * 1024,
};

/** An LRU keyed by document text, sized by that text's length. */
export function boundedDocumentCache<V extends object>(limits: DocumentCacheLimits = documentCacheLimits) {
  return new LRUCache<string, V>({
    max: limits.maxEntries,
    maxSize: limits.maxTotalChars,
    maxEntrySize: limits.maxEntryChars,
    sizeCalculation: (_value, key) => Math.max(1, key.length),
  });
}

/**
 * graphql-jit pays for itself only on documents that run again (compiling a new one costs more
 * than executing it once), so a document is compiled on its second execution. A document object
 * is reused only when the parse cache kept it, so a caller's one-off or oversized document is
 * executed by graphql-js and never compiled; what was compiled goes with the cached document.
 *
 * `@envelop/graphql-jit` keeps one compiled query per document, whatever operation it was compiled
 * for: a document holding `query A` and `query B`, compiled for `A`, would run `A` when asked for
 * `B`. So only a document with exactly one operation, asked for by its name or by none, is ever
 * compiled; a multi-operation document always runs on graphql-js, which picks the operation asked.
 */
export function compileOnRepeat(): (args: {
  document: DocumentNode;
  operationName?: string | null;
}) => boolean {
  const runs = new WeakMap<DocumentNode, number>();
  return ({ document, operationName }) => {
    if (!singleOperation(document, operationName)) return false;
    const seen = (runs.get(document) ?? 0) + 1;
    runs.set(document, seen);
    return seen >= 2;
  };
}

/** Whether `document` has exactly one operation, and `operationName` (if any) names it. */
function singleOperation(document: DocumentNode, operationName: string | null | undefined): boolean {
  let only: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (only) return false;
    only = definition;
  }
  return only !== undefined && (operationName == null || only.name?.value === operationName);
}
