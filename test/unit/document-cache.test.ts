import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  boundedDocumentCache,
  compileOnRepeat,
  documentCacheLimits,
} from '../../src/request/document-cache.js';

describe('the parse cache is bounded', () => {
  it('never keeps a document longer than its entry limit', () => {
    const cache = boundedDocumentCache<object>();
    const large = `{ __typename } # ${'x'.repeat(documentCacheLimits.maxEntryChars)}`;
    cache.set(large, {});
    expect(cache.has(large)).toBe(false);
    cache.set('{ __typename }', {});
    expect(cache.has('{ __typename }')).toBe(true);
  });

  it('keeps at most its total length, dropping the least recently used', () => {
    const cache = boundedDocumentCache<object>({ maxEntries: 1000, maxTotalChars: 100, maxEntryChars: 60 });
    const doc = (n: number) => `${n}`.padEnd(40, '.');
    cache.set(doc(1), {});
    cache.set(doc(2), {});
    cache.get(doc(1));
    cache.set(doc(3), {});
    expect([cache.has(doc(1)), cache.has(doc(2)), cache.has(doc(3))]).toEqual([true, false, true]);
    expect(cache.calculatedSize).toBeLessThanOrEqual(100);
  });

  it('keeps at most its count', () => {
    const cache = boundedDocumentCache<object>({ maxEntries: 2, maxTotalChars: 1000, maxEntryChars: 100 });
    for (const key of ['a', 'b', 'c']) cache.set(key, {});
    expect(cache.size).toBe(2);
  });
});

describe('graphql-jit compiles only documents that run again', () => {
  it('says no on a document’s first run and yes from its second', () => {
    const repeated = compileOnRepeat();
    const cached = parse('{ __typename }');
    const oneOff = parse('{ __typename }');
    expect(repeated({ document: cached })).toBe(false);
    expect(repeated({ document: oneOff })).toBe(false);
    expect(repeated({ document: cached })).toBe(true);
    expect(repeated({ document: cached, operationName: null })).toBe(true);
  });

  it('never compiles a document of several operations, nor one asked for by another name', () => {
    const repeated = compileOnRepeat();
    const two = parse('query A { __typename } query B { __typename }');
    const named = parse('query A { __typename }');
    for (let run = 0; run < 3; run += 1) {
      expect(repeated({ document: two, operationName: 'A' })).toBe(false);
      expect(repeated({ document: named, operationName: 'B' })).toBe(false);
    }
    expect(repeated({ document: named, operationName: 'A' })).toBe(false);
    expect(repeated({ document: named, operationName: 'A' })).toBe(true);
  });
});
