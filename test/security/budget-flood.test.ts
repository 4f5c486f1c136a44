import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { revokedFields, type Stack, startStack, testRateLimits } from '../support/stack.js';
import { shapedAccessToken, shapedRefreshToken } from '../support/tokens.js';

/**
 * Callers without credentials cannot spend what authenticated callers need: junk tokens never
 * reach Circle, anonymous callers spend a capped share of the budget (revocations included) and
 * have a lower per-caller limit, keyed by IPv4 address or IPv6 /64.
 */
const apiKey = 'k-budget-flood-0123456789abcdef';
const key = { 'x-api-key': apiKey };
const revokeRefresh = (tokens: string[]) =>
  `mutation { ${tokens.map((t, i) => `r${i}: revokeRefreshToken(refreshToken: "${t}") { ${revokedFields} }`).join(' ')} }`;
const revokeAccess = (tokens: string[]) =>
  `mutation { ${tokens.map((t, i) => `a${i}: revokeAccessToken(accessToken: "${t}") { ${revokedFields} }`).join(' ')} }`;
const fields = (response: { body: { data?: Record<string, unknown> | null } }) =>
  Object.values(response.body.data ?? {}) as Array<Record<string, unknown>>;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['billing', apiKey]]) },
      // 100 calls per 5 minutes; anonymous callers together 10 of them.
      rateLimits: { ...testRateLimits, circleBudgetPer5Min: 100, anonymousBudgetPercent: 10 },
    },
    metrics: true,
  });
});
beforeEach(() => stack.sandbox.resetStats());
afterAll(() => stack.close());

const calls = () => {
  const { revokeRefresh: r, revokeAccess: a, refresh, authToken } = stack.sandbox.stats().calls;
  return r + a + refresh + authToken;
};

describe('junk tokens', () => {
  it('are answered without a call: revocations revoked, refreshes INVALID_TOKEN', async () => {
    const junk = ['x', 'not-a-refresh-token', 'A'.repeat(42), `${'A'.repeat(43)}=`];
    const revoked = await stack.post(revokeRefresh(junk));
    expect(fields(revoked)).toEqual(junk.map(() => ({ __typename: 'TokenRevoked', revoked: true })));
    const expired = shapedAccessToken(1, -10);
    const noJwt = 'a.b.c';
    const noMember = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(`{"exp":${Math.floor(Date.now() / 1000) + 60}}`).toString('base64url')}.sig`;
    const access = await stack.post(revokeAccess([expired, noJwt, noMember]));
    expect(fields(access)).toEqual([1, 2, 3].map(() => ({ __typename: 'TokenRevoked', revoked: true })));
    const refresh = await stack.post(
      `mutation { refreshToken(refreshToken: "not-a-refresh-token") { __typename ... on Error { code message } } }`,
    );
    expect(refresh.body.data?.refreshToken).toEqual({
      __typename: 'InvalidToken',
      code: 'INVALID_TOKEN',
      message: 'The token is not valid: unknown, malformed or revoked.',
    });
    expect(calls()).toBe(0);
    const metrics = await stack.metrics?.registry.metrics();
    expect(metrics).toMatch(/gateway_upstream_calls_saved_total\{reason="unusable_token"\} 8/);
  });

  it('a token Circle called unknown is answered from memory the next time', async () => {
    const token = shapedRefreshToken();
    const first = await stack.post(
      `mutation { refreshToken(refreshToken: "${token}") { __typename ... on Error { code } } }`,
      undefined,
      key,
    );
    expect(first.body.data?.refreshToken).toEqual({ __typename: 'InvalidToken', code: 'INVALID_TOKEN' });
    expect(calls()).toBe(1);
    const again = await stack.post(revokeRefresh([token, token]));
    expect(fields(again)).toEqual([1, 2].map(() => ({ __typename: 'TokenRevoked', revoked: true })));
    const refreshAgain = await stack.post(
      `mutation { refreshToken(refreshToken: "${token}") { __typename ... on Error { code } } }`,
    );
    expect(refreshAgain.body.data?.refreshToken).toEqual({
      __typename: 'InvalidToken',
      code: 'INVALID_TOKEN',
    });
    expect(calls()).toBe(1);
  });
});

describe('the anonymous share of Circle’s budget', () => {
  it('refuses anonymous revocations past it, while backends keep minting and revoking', async () => {
    const flood = Array.from({ length: 15 }, () => shapedRefreshToken());
    const answer = fields(await stack.post(revokeRefresh(flood)));
    const revoked = answer.filter((f) => f.__typename === 'TokenRevoked');
    const limited = answer.filter((f) => f.__typename === 'RateLimited');
    // The test before this one spent none of the anonymous share: 10 of 100.
    expect(revoked).toHaveLength(10);
    expect(limited).toHaveLength(5);
    expect(limited[0]?.message).toMatch(
      /^The share of Circle's rate limit for callers without credentials is spent; retry after \d+ s, or authenticate\.$/,
    );
    expect(stack.sandbox.stats().calls.revokeRefresh).toBe(10);
    // More anonymous junk of Circle's shape: refused, no call.
    const more = fields(await stack.post(revokeAccess([shapedAccessToken(), shapedAccessToken()])));
    expect(more.map((f) => f.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(stack.sandbox.stats().calls.revokeAccess).toBe(0);
    // An authenticated backend is untouched.
    const minted = await stack.post(
      '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename ... on MemberToken { refreshToken } } }',
      undefined,
      key,
    );
    const issued = minted.body.data?.memberToken as { __typename: string; refreshToken: string };
    expect(issued.__typename).toBe('MemberToken');
    const backendRevoke = fields(await stack.post(revokeRefresh([issued.refreshToken]), undefined, key));
    expect(backendRevoke).toEqual([{ __typename: 'TokenRevoked', revoked: true }]);
    expect(stack.sandbox.stats().calls.revokeRefresh).toBe(11);
    const metrics = await stack.metrics?.registry.metrics();
    expect(metrics).toMatch(/gateway_rate_limited_total\{scope="anonymous_budget"\} 7/);
  });
});

describe('the anonymous per-caller limit', () => {
  let limited: Stack;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    limited = await startStack({
      gateway: {
        openAccess: false,
        auth: {
          apiKeys: new Map([['billing', apiKey]]),
          trustedProxies: { ranges: [{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }] },
        },
        rateLimits: { ...testRateLimits, perAnonymousCallerPerMinute: 2 },
      },
    });
    server = createServer(limited.gateway.nodeListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await limited.close();
  });

  const revokeFrom = async (address: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...headers },
      body: JSON.stringify({ query: revokeRefresh(['junk']) }),
    });
    const body = (await response.json()) as { data: { r0: Record<string, unknown> } };
    return body.data.r0.__typename;
  };

  it('keys an IPv6 caller by its /64, an IPv4 caller by its address, and leaves backends alone', async () => {
    expect(await revokeFrom('2001:db8:1:2::1')).toBe('TokenRevoked');
    expect(await revokeFrom('2001:db8:1:2::ffff')).toBe('TokenRevoked');
    expect(await revokeFrom('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('RateLimited');
    expect(await revokeFrom('2001:db8:1:3::1')).toBe('TokenRevoked');
    expect(await revokeFrom('198.51.100.1')).toBe('TokenRevoked');
    expect(await revokeFrom('198.51.100.1')).toBe('TokenRevoked');
    expect(await revokeFrom('198.51.100.1')).toBe('RateLimited');
    expect(await revokeFrom('198.51.100.2')).toBe('TokenRevoked');
    // A backend's limit is RATE_LIMIT_PER_CALLER, whatever its address.
    for (let i = 0; i < 4; i += 1) expect(await revokeFrom('198.51.100.1', key)).toBe('TokenRevoked');
  });
});
