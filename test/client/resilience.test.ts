import { MockAgent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClientOptions, createClient } from '../../src/client/sdk.js';
import type { QueuedFault } from '../../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';

// A real loopback server (the sandbox) scripted fault by fault; its stats count the calls that
// actually reached it.
let sandbox: Sandbox;
const clients: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  sandbox.setFaults({});
  sandbox.resetStats();
});
afterAll(() => sandbox.close());

function client(options: Partial<ClientOptions> = {}) {
  const c = createClient({
    appToken: sandbox.appToken,
    baseURL: sandbox.url,
    headersTimeoutMs: 300,
    revokeBaseDelayMs: 5,
    ...options,
  });
  clients.push(c);
  return c;
}

function script(...queue: QueuedFault[]) {
  sandbox.setFaults({ queue });
}

async function liveRefreshToken() {
  const token = await client().api.issueMemberToken({ email: 'ada@example.com' });
  sandbox.resetStats();
  return token.refresh_token;
}

const error503: QueuedFault = { kind: 'error', status: 503, html: false };

describe('token issue (auth_token) is never retried once the request may have reached Circle', () => {
  it('answers a 503 with SERVER_FAULT after exactly one call', async () => {
    script(error503);
    await expect(client().api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 'SERVER_FAULT',
      status: 503,
    });
    expect(sandbox.stats().calls.authToken).toBe(1);
  });

  it('answers a connection reset after sending with UPSTREAM_CONNECTION after exactly one call', async () => {
    script({ kind: 'reset' });
    await expect(client().api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 'UPSTREAM_CONNECTION',
      message: 'Could not connect to Circle.',
    });
    expect(sandbox.stats().calls.authToken).toBe(1);
  });

  it('answers a hanging request with UPSTREAM_TIMEOUT after exactly one call', async () => {
    script({ kind: 'hang' });
    await expect(client().api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
    });
    expect(sandbox.stats().calls.authToken).toBe(1);
  });

  it('retries a refused connection, which cannot have reached Circle', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get('https://circle.test');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    pool.intercept({ path: '/api/v1/headless/auth_token', method: 'POST' }).replyWithError(refused);
    pool.intercept({ path: '/api/v1/headless/auth_token', method: 'POST' }).replyWithError(refused);
    pool.intercept({ path: '/api/v1/headless/auth_token', method: 'POST' }).reply(200, {
      access_token: 'eyJ.a.b',
      refresh_token: 'r'.repeat(43),
      access_token_expires_at: '2024-03-20T16:54:47.274Z',
      refresh_token_expires_at: '2024-04-19T16:54:47.274Z',
      community_member_id: 1,
      community_id: 1,
    });
    const c = createClient({ appToken: 'x-app-token', baseURL: 'https://circle.test', dispatcher: agent });
    await expect(c.api.issueMemberToken({ communityMemberId: 1 })).resolves.toMatchObject({
      community_member_id: 1,
    });
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});

describe('refresh is retried once on 5xx or timeout', () => {
  it('succeeds on the second call after a 503', async () => {
    const token = await liveRefreshToken();
    script(error503);
    await expect(client().api.refreshAccessToken(token)).resolves.toHaveProperty('access_token');
    expect(sandbox.stats().calls.refresh).toBe(2);
  });

  it('succeeds on the second call after a hang', async () => {
    const token = await liveRefreshToken();
    script({ kind: 'hang' });
    await expect(client().api.refreshAccessToken(token)).resolves.toHaveProperty('access_token');
    expect(sandbox.stats().calls.refresh).toBe(2);
  });

  it('gives up after two calls', async () => {
    const token = await liveRefreshToken();
    script(error503, error503, error503);
    await expect(client().api.refreshAccessToken(token)).rejects.toMatchObject({ code: 'SERVER_FAULT' });
    expect(sandbox.stats().calls.refresh).toBe(2);
  });

  it('does not retry a 4xx answer', async () => {
    await expect(client().api.refreshAccessToken('unknown-refresh-token')).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    expect(sandbox.stats().calls.refresh).toBe(1);
  });
});

describe('revokes are retried with backoff, within bounds', () => {
  it('succeeds after two 503s and an HTML 502, on the fourth call', async () => {
    const token = await liveRefreshToken();
    script(error503, error503, { kind: 'error', status: 502, html: true });
    await expect(client().api.revokeRefreshToken(token)).resolves.toBeUndefined();
    expect(sandbox.stats().calls.revokeRefresh).toBe(4);
  });

  it('stops at revokeMaxAttempts', async () => {
    script(...Array.from({ length: 10 }, () => error503));
    await expect(client({ revokeMaxAttempts: 3 }).api.revokeAccessToken('eyJ.a.b')).rejects.toMatchObject({
      code: 'SERVER_FAULT',
    });
    expect(sandbox.stats().calls.revokeAccess).toBe(3);
  });

  it('stops at the overall deadline when every attempt hangs', async () => {
    script(...Array.from({ length: 10 }, (): QueuedFault => ({ kind: 'hang' })));
    const c = client({ deadlineMs: 700, headersTimeoutMs: 5000, revokeMaxAttempts: 10 });
    await expect(c.api.revokeAccessToken('eyJ.a.b')).rejects.toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      message: 'Circle did not answer in time.',
    });
    expect(sandbox.stats().calls.revokeAccess).toBe(1);
  });
});

describe('429 handling', () => {
  it('waits out a short Retry-After and then succeeds', async () => {
    script({ kind: 'rateLimit', retryAfterSeconds: 1 });
    const started = Date.now();
    await expect(client().api.issueMemberToken({ email: 'ada@example.com' })).resolves.toHaveProperty(
      'community_member_id',
      1,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sandbox.stats().calls.authToken).toBe(2);
  });

  it('returns RATE_LIMITED with a long Retry-After and fails fast until it passes', async () => {
    script({ kind: 'rateLimit', retryAfterSeconds: 120 });
    const c = client();
    await expect(c.api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 120,
      message: "Circle's rate limit was reached; retry after 120 s.",
    });
    await expect(c.api.revokeAccessToken('eyJ.a.b')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(sandbox.stats().calls).toMatchObject({ authToken: 1, revokeAccess: 0 });
  });

  it('backs off rateLimitBackoffSeconds when there is no Retry-After', async () => {
    script({ kind: 'rateLimit' });
    await expect(
      client({ rateLimitBackoffSeconds: 45 }).api.issueMemberToken({ email: 'ada@example.com' }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 45 });
  });
});

describe('the readiness probe is never retried', () => {
  it('answers a 429 with RATE_LIMITED after exactly one call, even with a Retry-After of 0', async () => {
    script({ kind: 'rateLimit', retryAfterSeconds: 0 });
    await expect(client().api.probe()).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(sandbox.stats().calls.revokeAccess).toBe(1);
  });

  it('answers a 503 with SERVER_FAULT after exactly one call', async () => {
    script(error503);
    await expect(client().api.probe()).rejects.toMatchObject({ code: 'SERVER_FAULT', status: 503 });
    expect(sandbox.stats().calls.revokeAccess).toBe(1);
  });

  it('resolves when Circle accepts the app token, minting nothing', async () => {
    await expect(client().api.probe()).resolves.toBeUndefined();
    expect(sandbox.stats().calls).toMatchObject({ authToken: 0, revokeAccess: 1 });
  });
});

describe('circuit breaker', () => {
  it('opens when more than half of the window failed, fails fast, and closes after a good trial call', async () => {
    const c = client({ breakerMinimumCalls: 3, breakerHalfOpenAfterMs: 200 });
    script(error503, error503, error503);
    for (let i = 0; i < 3; i++) {
      await expect(c.api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
        code: 'SERVER_FAULT',
      });
    }
    expect(c.breakerState()).toBe('open');
    await expect(c.api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      message: 'Circle is unavailable (circuit open: most recent calls failed); failing fast.',
    });
    expect(sandbox.stats().calls.authToken).toBe(3);

    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(c.api.issueMemberToken({ email: 'ada@example.com' })).resolves.toHaveProperty(
      'access_token',
    );
    expect(c.breakerState()).toBe('closed');
    expect(sandbox.stats().calls.authToken).toBe(4);
  });

  it('stays closed through a partial outage: a quarter of the calls failing', async () => {
    const c = client({ breakerMinimumCalls: 4 });
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      script(error503);
      for (let i = 0; i < 4; i++) {
        outcomes.push(
          await c.api.issueMemberToken({ email: 'ada@example.com' }).then(
            () => 'ok',
            (error: { code: string }) => error.code,
          ),
        );
      }
    }
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(9);
    expect(outcomes.filter((o) => o === 'SERVER_FAULT')).toHaveLength(3);
    expect(c.breakerState()).toBe('closed');
  });

  it('does not open on fewer calls than its minimum, however many failed', async () => {
    const c = client({ breakerMinimumCalls: 5 });
    script(error503, error503, error503, error503);
    for (let i = 0; i < 4; i++) {
      await expect(c.api.issueMemberToken({ email: 'ada@example.com' })).rejects.toMatchObject({
        code: 'SERVER_FAULT',
      });
    }
    expect(c.breakerState()).toBe('closed');
  });

  it('is not opened by answers that say Circle is healthy (4xx)', async () => {
    const c = client({ breakerMinimumCalls: 2 });
    for (let i = 0; i < 4; i++) {
      await expect(c.api.issueMemberToken({ email: 'nobody@example.com' })).rejects.toMatchObject({
        code: 'MEMBER_NOT_FOUND',
      });
    }
    expect(c.breakerState()).toBe('closed');
  });
});

describe('caller abort', () => {
  it('rejects with ABORTED when the caller’s signal fires', async () => {
    script({ kind: 'hang' });
    const controller = new AbortController();
    const pending = client({ headersTimeoutMs: 5000 }).api.revokeAccessToken('eyJ.a.b', {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'The call was aborted by the caller.',
    });
  });
});
