import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memberTokenFields, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    sandbox: {
      members: Array.from({ length: 30 }, (_, i) => ({
        id: i + 1,
        email: `m${i + 1}@example.com`,
        ssoId: `sso-${i + 1}`,
        name: '',
      })),
    },
  });
});
beforeEach(() => {
  stack.sandbox.setFaults({});
  stack.sandbox.resetStats();
});
afterAll(() => stack.close());

function aliases(values: string[], by = 'EMAIL') {
  return `{ ${values.map((v, i) => `a${i}: memberToken(by: ${by}, value: "${v}") { ${memberTokenFields} }`).join('\n')} }`;
}

describe('batching within one request', () => {
  it('collapses 20 aliases of one lookup into one upstream call', async () => {
    const response = await stack.post(aliases(Array.from({ length: 20 }, () => 'm1@example.com')));
    const results = Object.values(response.body.data ?? {});
    expect(results).toHaveLength(20);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(results.every((r) => r.__typename === 'MemberToken')).toBe(true);
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
  });

  it('makes 20 calls for 20 distinct members, concurrently but never more than 8 at once', async () => {
    stack.sandbox.setFaults({ latencyMs: 40 });
    const response = await stack.post(aliases(Array.from({ length: 20 }, (_, i) => `m${i + 1}@example.com`)));
    const results = Object.values(response.body.data ?? {});
    expect(results.map((r) => r.communityMemberId)).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i + 1)),
    );
    const stats = stack.sandbox.stats();
    expect(stats.calls.authToken).toBe(20);
    expect(stats.maxInFlight).toBeLessThanOrEqual(8);
    expect(stats.maxInFlight).toBeGreaterThan(1);
  });

  it('treats the same member by different identifiers as different keys', async () => {
    const query = `{ a: memberToken(by: ID, value: "1") { ${memberTokenFields} } b: memberToken(by: EMAIL, value: "m1@example.com") { ${memberTokenFields} } }`;
    await stack.post(query);
    expect(stack.sandbox.stats().calls.authToken).toBe(2);
  });

  it('never shares results between requests', async () => {
    const one = await stack.post(aliases(['m2@example.com']));
    const two = await stack.post(aliases(['m2@example.com']));
    expect(one.body.data?.a0?.accessToken).not.toBe(two.body.data?.a0?.accessToken);
    expect(stack.sandbox.stats().calls.authToken).toBe(2);
  });
});

describe('per-operation cap on upstream calls', () => {
  it('answers fields beyond the cap with RATE_LIMITED and makes no call for them', async () => {
    const capped = await startStack({ gateway: { maxUpstreamCallsPerOperation: 5 } });
    try {
      const values = ['ada', 'grace', 'alan', 'katherine', 'edsger'].map((n) => `${n}@example.com`);
      values.push('x1@example.com', 'x2@example.com', 'ada@example.com');
      const response = await capped.post(aliases(values));
      const results = Object.values(response.body.data ?? {});
      expect(results.slice(0, 5).map((r) => r.__typename)).toEqual(Array(5).fill('MemberToken'));
      for (const result of results.slice(5, 7)) {
        expect(result).toStrictEqual({
          __typename: 'RateLimited',
          code: 'RATE_LIMITED',
          message: 'This operation needs more than 5 calls to Circle; split it into smaller operations.',
          retryAfterSeconds: 0,
        });
      }
      // A repeat of an earlier key is answered from the loader without counting again.
      expect(results[7]?.accessToken).toBe(results[0]?.accessToken);
      expect(capped.sandbox.stats().calls.authToken).toBe(5);
    } finally {
      await capped.close();
    }
  });
});

describe('refresh single-flight across requests', () => {
  it('makes one upstream call for concurrent refreshes of the same token', async () => {
    const issued = await stack.post(aliases(['m3@example.com']));
    const refreshToken = String(issued.body.data?.a0?.refreshToken);
    stack.sandbox.resetStats();
    stack.sandbox.setFaults({ latencyMs: 300 });
    const mutation =
      'mutation($t: String!) { refreshToken(refreshToken: $t) { ... on AccessToken { accessToken } } }';
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => stack.post(mutation, { t: refreshToken })));
    expect(stack.sandbox.stats().calls.refresh).toBe(1);
    expect(a?.body.data?.refreshToken?.accessToken).toBeTruthy();
    expect(b?.body.data?.refreshToken?.accessToken).toBe(a?.body.data?.refreshToken?.accessToken);
    expect(c?.body.data?.refreshToken?.accessToken).toBe(a?.body.data?.refreshToken?.accessToken);
  });

  it('never shares a flight between different tokens, nor after the first one settles', async () => {
    const issued = await stack.post(aliases(['m4@example.com', 'm5@example.com']));
    const tokens = [issued.body.data?.a0?.refreshToken, issued.body.data?.a1?.refreshToken];
    stack.sandbox.resetStats();
    const mutation =
      'mutation($t: String!) { refreshToken(refreshToken: $t) { ... on AccessToken { accessToken } } }';
    await Promise.all(tokens.map((t) => stack.post(mutation, { t })));
    await stack.post(mutation, { t: tokens[0] });
    expect(stack.sandbox.stats().calls.refresh).toBe(3);
  });
});
