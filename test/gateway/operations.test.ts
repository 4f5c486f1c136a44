import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  accessTokenFields,
  memberTokenFields,
  revokedFields,
  type Stack,
  startStack,
} from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
beforeEach(() => {
  stack.sandbox.setFaults({});
  stack.sandbox.resetStats();
});
afterAll(() => stack.close());

const memberToken = (by: string, value: string) =>
  stack.post(
    `query($by: MemberLookup!, $value: String!) { memberToken(by: $by, value: $value) { ${memberTokenFields} } }`,
    {
      by,
      value,
    },
  );
const refresh = (refreshToken: string) =>
  stack.post(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${accessTokenFields} } }`, {
    t: refreshToken,
  });
const revokeRefresh = (refreshToken: string) =>
  stack.post(`mutation($t: String!) { revokeRefreshToken(refreshToken: $t) { ${revokedFields} } }`, {
    t: refreshToken,
  });
const revokeAccess = (accessToken: string) =>
  stack.post(`mutation($t: String!) { revokeAccessToken(accessToken: $t) { ${revokedFields} } }`, {
    t: accessToken,
  });

async function issued(email = 'ada@example.com') {
  const result = (await memberToken('EMAIL', email)).body.data?.memberToken;
  stack.sandbox.resetStats();
  return result as { accessToken: string; refreshToken: string };
}

describe('memberToken', () => {
  for (const [by, value] of [
    ['EMAIL', 'ada@example.com'],
    ['ID', '1'],
    ['SSO', 'sso-ada'],
  ] as const) {
    it(`returns a MemberToken by ${by}`, async () => {
      const response = await memberToken(by, value);
      expect(response.status).toBe(200);
      const token = response.body.data?.memberToken;
      expect(token).toMatchObject({ __typename: 'MemberToken', communityMemberId: '1', communityId: '1' });
      expect(String(token?.accessToken)).toMatch(/^eyJhbGciOiJIUzI1NiJ9\./);
      expect(String(token?.refreshToken)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(String(token?.accessTokenExpiresAt)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(String(token?.refreshTokenExpiresAt)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(stack.sandbox.stats().calls.authToken).toBe(1);
    });
  }

  it('answers an unknown member with MEMBER_NOT_FOUND', async () => {
    const response = await memberToken('EMAIL', 'nobody@example.com');
    expect(response.body.data?.memberToken).toStrictEqual({
      __typename: 'MemberNotFound',
      code: 'MEMBER_NOT_FOUND',
      message: 'No Circle community member matches that identifier.',
    });
  });

  const invalid: Array<[string, string, string]> = [
    ['EMAIL', 'not-an-email', 'Invalid value: expected an email address like name@example.com.'],
    ['EMAIL', '', 'Invalid value: expected a non-empty email address.'],
    ['ID', '0', 'Invalid value: expected a positive integer.'],
    ['ID', '12abc', 'Invalid value: expected a positive integer.'],
    ['ID', '99999999999999999', 'Invalid value: expected a positive integer.'],
    ['SSO', '  ', 'Invalid value: expected a non-empty string.'],
    ['SSO', 'a\u0000b', 'Invalid value: control characters are not allowed.'],
  ];
  for (const [by, value, message] of invalid) {
    it(`rejects ${by} ${JSON.stringify(value)} with INVALID_INPUT and no upstream call`, async () => {
      const response = await memberToken(by, value);
      expect(response.body.data?.memberToken).toStrictEqual({
        __typename: 'InvalidInput',
        code: 'INVALID_INPUT',
        message,
        argument: 'value',
      });
      expect(stack.sandbox.stats().calls.authToken).toBe(0);
    });
  }
});

describe('refreshToken', () => {
  it('returns a new access token and leaves the refresh token usable', async () => {
    const { refreshToken, accessToken } = await issued();
    const first = (await refresh(refreshToken)).body.data?.refreshToken;
    expect(first).toMatchObject({ __typename: 'AccessToken' });
    expect(first?.accessToken).not.toBe(accessToken);
    expect((await refresh(refreshToken)).body.data?.refreshToken).toMatchObject({
      __typename: 'AccessToken',
    });
  });

  it('answers an unknown refresh token with INVALID_TOKEN', async () => {
    expect((await refresh('unknown-refresh-token')).body.data?.refreshToken).toStrictEqual({
      __typename: 'InvalidToken',
      code: 'INVALID_TOKEN',
      message: 'The token is not valid: unknown, malformed or revoked.',
    });
  });

  it('answers an expired refresh token with TOKEN_EXPIRED', async () => {
    const { refreshToken } = await issued();
    stack.clock.advance(31 * 24 * 3600_000);
    expect((await refresh(refreshToken)).body.data?.refreshToken).toStrictEqual({
      __typename: 'TokenExpired',
      code: 'TOKEN_EXPIRED',
      message: 'The refresh token has expired; get a new member token.',
    });
  });

  it('rejects an empty token with INVALID_INPUT naming the argument', async () => {
    expect((await refresh('')).body.data?.refreshToken).toStrictEqual({
      __typename: 'InvalidInput',
      code: 'INVALID_INPUT',
      message: 'Invalid refreshToken: expected a non-empty token.',
      argument: 'refreshToken',
    });
    expect(stack.sandbox.stats().calls.refresh).toBe(0);
  });
});

describe('revocation follows RFC 7009', () => {
  it('revokes a live refresh token, after which refreshing fails', async () => {
    const { refreshToken } = await issued();
    expect((await revokeRefresh(refreshToken)).body.data?.revokeRefreshToken).toStrictEqual({
      __typename: 'TokenRevoked',
      revoked: true,
    });
    expect((await refresh(refreshToken)).body.data?.refreshToken).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('answers revoked: true for refresh tokens that are already revoked, unknown or expired', async () => {
    const { refreshToken } = await issued();
    await revokeRefresh(refreshToken);
    const expired = await issued();
    stack.clock.advance(31 * 24 * 3600_000);
    for (const token of [refreshToken, 'never-issued-refresh-token', expired.refreshToken]) {
      expect((await revokeRefresh(token)).body.data?.revokeRefreshToken).toStrictEqual({
        __typename: 'TokenRevoked',
        revoked: true,
      });
    }
  });

  it('answers revoked: true for access tokens that are live, already revoked, expired or garbage', async () => {
    const { accessToken } = await issued();
    const other = await issued('grace@example.com');
    for (const token of [accessToken, accessToken, 'eyJhbGciOiJIUzI1NiJ9.e30.garbage']) {
      expect((await revokeAccess(token)).body.data?.revokeAccessToken).toStrictEqual({
        __typename: 'TokenRevoked',
        revoked: true,
      });
    }
    stack.clock.advance(2 * 3600_000);
    expect((await revokeAccess(other.accessToken)).body.data?.revokeAccessToken).toMatchObject({
      revoked: true,
    });
  });

  it('never says revoked when Circle could not confirm it', async () => {
    const { accessToken } = await issued();
    stack.sandbox.setFaults({
      queue: Array.from({ length: 4 }, () => ({ kind: 'error' as const, status: 503 })),
    });
    expect((await revokeAccess(accessToken)).body.data?.revokeAccessToken).toStrictEqual({
      __typename: 'UpstreamUnavailable',
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'Circle is unavailable right now; try again shortly.',
    });
    expect(stack.sandbox.stats().calls.revokeAccess).toBe(4);
    stack.sandbox.setFaults({});
    expect((await revokeAccess(accessToken)).body.data?.revokeAccessToken).toMatchObject({ revoked: true });
  });
});

describe('HTTP behaviour', () => {
  it('sends Cache-Control: no-store and a request id on every response', async () => {
    const responses = [
      await memberToken('EMAIL', 'ada@example.com'),
      await memberToken('EMAIL', 'nobody@example.com'),
      await stack.post('{ notAField }'),
      await stack.get('{ memberToken(by: ID, value: "1") { __typename } }'),
    ];
    for (const response of responses) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const page = await stack.gateway.fetch('http://gateway/graphql', { headers: { accept: 'text/html' } });
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('names each request with its own id, the caller’s recorded apart (an unsafe one not at all)', async () => {
    const before = stack.logLines.length;
    const kept = await stack.post('{ __typename }', undefined, { 'x-request-id': 'trace-123' });
    const id = kept.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const replaced = await stack.post('{ __typename }', undefined, { 'x-request-id': 'bad id\twith tab' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const access = stack.logLines
      .slice(before)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request');
    expect(access.map((line) => [line.requestId, line.callerRequestId])).toEqual([
      [id, 'trace-123'],
      [replaced.headers.get('x-request-id'), undefined],
    ]);
  });

  it('refuses token operations over GET with 405 and calls nothing upstream', async () => {
    const response = await stack.get('{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.body.errors?.[0]?.message).toBe(
      'Operations that return tokens must be sent with POST: send this request as a POST with a JSON body (with urql, set preferGetMethod: false).',
    );
    const viaFragment = await stack.get(
      'query { ...F } fragment F on Query { memberToken(by: ID, value: "1") { __typename } }',
    );
    expect(viaFragment.status).toBe(405);
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('answers a GET for tokens without credentials with the authentication answer first', async () => {
    const apiKey = 'get-refusal-test-api-key-0123456789';
    const guarded = await startStack({
      gateway: { openAccess: false, auth: { apiKeys: new Map([['app', apiKey]]) } },
    });
    try {
      const query = '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }';
      const anonymous = await guarded.get(query);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.errors?.[0]).toMatchObject({
        message: 'Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.',
        extensions: { code: 'UNAUTHENTICATED' },
      });
      const wrongKey = await guarded.get(query, { 'x-api-key': 'not-the-key-0123456789abcdef' });
      expect(wrongKey.status).toBe(401);
      const backend = await guarded.get(query, { 'x-api-key': apiKey });
      expect(backend.status).toBe(405);
      expect(backend.body.errors?.[0]?.extensions?.code).toBe('METHOD_NOT_ALLOWED');
      expect(guarded.sandbox.stats().calls.authToken).toBe(0);
    } finally {
      await guarded.close();
    }
  });

  it('still answers introspection and __typename over GET', async () => {
    expect((await stack.get('{ __typename }')).body).toStrictEqual({ data: { __typename: 'Query' } });
    const introspection = await stack.get('{ __schema { queryType { name } } }');
    expect(introspection.body.data).toStrictEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('answers /health and /ready', async () => {
    expect((await stack.gateway.fetch('http://gateway/health')).status).toBe(200);
    const ready = await stack.gateway.fetch('http://gateway/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      reason: 'Circle is reachable and accepts the app token.',
    });
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });
});

describe('request body limit', () => {
  it('refuses a body over MAX_REQUEST_BODY_BYTES with 413 before reading it', async () => {
    const small = await startStack({ gateway: { maxRequestBodyBytes: 2048 } });
    try {
      const response = await small.post(`{ __typename } # ${'x'.repeat(4096)}`);
      expect(response.status).toBe(413);
      expect(response.body.errors?.[0]?.message).toBe('Request body too large: the limit is 2048 bytes.');
      expect((await small.post('{ __typename }')).body.data).toStrictEqual({ __typename: 'Query' });
    } finally {
      await small.close();
    }
  });
});

describe('request body without Content-Length', () => {
  it('is refused with 411 rather than read without a bound', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"query":"{ __typename }"}'));
        controller.close();
      },
    });
    const response = await stack.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(411);
    expect(((await response.json()) as { errors: Array<{ message: string }> }).errors[0]?.message).toBe(
      'A request body needs a Content-Length header.',
    );
  });
});

describe('readiness', () => {
  it('is 503 when Circle rejects the app token, and mints nothing to find out', async () => {
    const wrong = await startStack({ client: { appToken: 'not-the-sandbox-app-token' } });
    try {
      const ready = await wrong.gateway.fetch('http://gateway/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        ready: false,
        reason: 'Circle rejected the app token (401): check CIRCLE_APP_TOKEN.',
      });
      expect(wrong.sandbox.stats().calls).toMatchObject({ authToken: 0, revokeAccess: 1 });
    } finally {
      await wrong.close();
    }
  });

  it('is 503 while Circle cannot be reached', async () => {
    const down = await startStack({
      client: { baseURL: 'http://127.0.0.1:9', connectTimeoutMs: 200, deadlineMs: 500 },
    });
    try {
      const ready = await down.gateway.fetch('http://gateway/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        ready: false,
        reason: 'Circle is unreachable (the connection failed).',
      });
      expect((await down.gateway.fetch('http://gateway/health')).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});

describe('readiness while the breaker is open', () => {
  it('is 503 and says so, without probing Circle', async () => {
    const failing = await startStack({ client: { breakerMinimumCalls: 3, breakerHalfOpenAfterMs: 60_000 } });
    try {
      failing.sandbox.setFaults({ errorRate: 1 });
      for (let i = 0; i < 3; i++)
        await failing.post(`{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }`);
      failing.sandbox.resetStats();
      const ready = await failing.gateway.fetch('http://gateway/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        ready: false,
        reason: 'The circuit breaker is open: most recent calls to Circle failed.',
      });
      expect(failing.sandbox.stats().calls.revokeAccess).toBe(0);
    } finally {
      await failing.close();
    }
  });
});

describe('unexpected errors', () => {
  it('are masked as "Unexpected error." with the request id, and logged with that id', async () => {
    // A bug below the gateway (no HTTP answer causes one: the client types every answer).
    const buggy = await startStack({
      upstream: (client) => ({
        ...client,
        api: {
          ...client.api,
          issueMemberToken: () => Promise.reject(new TypeError('a bug below the gateway')),
        },
      }),
    });
    try {
      const response = await buggy.post(
        `{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }`,
      );
      const requestId = response.headers.get('x-request-id');
      expect(response.body.errors?.[0]).toMatchObject({
        message: 'Unexpected error.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(response.body.extensions?.requestId).toBe(requestId);
      const logged = buggy.logLines
        .map((line) => JSON.parse(line))
        .find((l) => l.msg === 'unexpected error' && l.requestId === requestId);
      expect(logged).toMatchObject({ level: 50, path: 'memberToken' });
    } finally {
      await buggy.close();
    }
  });
});
