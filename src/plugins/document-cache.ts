import type { DocumentNode } from 'graphql';
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
 */
export function compileOnRepeat(): (document: DocumentNode) => boolean {
  const runs = new WeakMap<DocumentNode, number>();
  return (document) => {
    const seen = (runs.get(document) ?? 0) + 1;
    runs.set(document, seen);
    return seen >= 2;
  };
}
