import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memberTokenFields, type Stack, startStack } from '../support/stack.js';

/**
 * Backends and server-rendered pages: identical mints from one caller for one member, in flight at
 * once across requests, are one call at Circle whose answer all of them get (one pair of tokens);
 * never reused after it settles, and never across callers.
 */
const keys = { ssr: 'coalesce-ssr-key-0123456789abcdef', other: 'coalesce-other-key-0123456789abcd' };
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    metrics: true,
    sandbox: { faults: { latencyMs: 150 } },
    gateway: {
      openAccess: false,
      auth: {
        apiKeys: new Map([
          ['ssr', keys.ssr],
          ['other', keys.other],
        ]),
      },
    },
  });
});
beforeEach(() => stack.sandbox.resetStats());
afterAll(() => stack.close());

const mint = (key: string, value = 'ada@example.com') =>
  stack.post(`{ memberToken(by: EMAIL, value: "${value}") { ${memberTokenFields} } }`, undefined, {
    'x-api-key': key,
  });
const saved = async () =>
  Number(
    /gateway_upstream_calls_saved_total\{reason="coalesced_mint"\} (\d+)/.exec(
      (await stack.metrics?.registry.metrics()) ?? '',
    )?.[1],
  );

describe('concurrent identical mints', () => {
  it('from one caller for one member make one upstream call, every request getting the same pair', async () => {
    const before = await saved();
    const answers = await Promise.all([mint(keys.ssr), mint(keys.ssr), mint(keys.ssr), mint(keys.ssr)]);
    const tokens = answers.map((a) => a.body.data?.memberToken as Record<string, string>);
    expect(tokens.every((t) => t.__typename === 'MemberToken')).toBe(true);
    expect(new Set(tokens.map((t) => t.refreshToken)).size).toBe(1);
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
    expect((await saved()) - before).toBe(3);
  });

  it('are never joined across callers, nor for another member', async () => {
    await Promise.all([mint(keys.ssr), mint(keys.other), mint(keys.ssr, 'grace@example.com')]);
    expect(stack.sandbox.stats().calls.authToken).toBe(3);
  });

  it('are not reused once settled: the next mint asks Circle again', async () => {
    const first = (await mint(keys.ssr)).body.data?.memberToken as Record<string, string>;
    const second = (await mint(keys.ssr)).body.data?.memberToken as Record<string, string>;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(stack.sandbox.stats().calls.authToken).toBe(2);
  });
});
