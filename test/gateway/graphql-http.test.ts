import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('GraphQL over HTTP conformance (graphql-http audits)', () => {
  const audits = serverAudits({
    url: 'http://gateway/graphql',
    fetchFn: (input: RequestInfo | URL, init?: RequestInit) => stack.gateway.fetch(String(input), init ?? {}),
  });

  it('runs the whole audit suite', () => {
    expect(audits.length).toBeGreaterThanOrEqual(60);
  });

  for (const audit of audits) {
    it(audit.name, async () => {
      const result = await audit.fn();
      expect(result.status, result.status === 'ok' ? '' : result.reason).toBe('ok');
    });
  }
});
