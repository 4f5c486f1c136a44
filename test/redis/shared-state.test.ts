import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createRateLimits, type FieldAdmission, type RateLimits } from '../../src/rate-limits/index.js';
import { connectSharedState, KEY_PREFIX, type SharedState } from '../../src/redis/index.js';
import { type RedisServer, redisMissing, startRedis } from '../../support/redis.js';

/**
 * The shared state on a real redis-server: two "replicas" are two connections with their own rate
 * limits in this process (the three-process test is test/integration/replicas.test.ts). Counts are
 * shared, the budget keeps its priorities, a refusal changes nothing, Redis holds no secret, and an
 * outage falls back to per-replica insurance and recovers by itself.
 */
const appToken = 'shared-state-test-app-token';
const limits = {
  perCallerPerMinute: 4,
  perAnonymousCallerPerMinute: 4,
  perMemberPerMinute: 100,
  anonymousBudgetPercent: 10,
  circleBudgetPer5Min: 10,
  replicas: 2,
};

let redis: RedisServer;
const opened: SharedState[] = [];
const logLines: Record<string, unknown>[] = [];

function logger() {
  return createLogger(
    'info',
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).trim().split('\n')) logLines.push(JSON.parse(line));
        done();
      },
    }),
  );
}

async function replica(
  url = redis.url,
  timeoutMs = 200,
): Promise<{ state: SharedState; limits: RateLimits }> {
  const state = await connectSharedState({
    url,
    appToken,
    timeoutMs,
    replicas: limits.replicas,
    flightWaitMs: 2000,
    logger: logger(),
  });
  opened.push(state);
  return { state, limits: createRateLimits(limits, state.store) };
}

const field = (over: Partial<FieldAdmission> = {}): FieldAdmission => ({
  operation: 'issue',
  callerKey: 'key:billing',
  subjectKey: 'member-a',
  call: true,
  ...over,
});

const outcome = (verdict: unknown) =>
  typeof verdict === 'string'
    ? verdict
    : `${(verdict as { code: string }).code}: ${(verdict as Error).message}`;

beforeAll(async () => {
  if (!redisMissing) redis = await startRedis();
}, 20_000);
// Each test starts its own replicas; those of the last one leave (and leave Redis's replica count).
afterEach(async () => {
  for (const state of opened.splice(0)) await state.close();
});
afterAll(async () => {
  await redis?.stop();
});

async function flush() {
  await redis.restart();
  // Each replica's probe notices within a second; wait until all share again.
  for (let i = 0; i < 100 && opened.some((s) => !s.status().up); i++)
    await new Promise((r) => setTimeout(r, 50));
}

describe.skipIf(redisMissing)('shared state in Redis', () => {
  it('shares the caller limit across replicas, and a refusal counts nothing', async () => {
    const a = await replica();
    const b = await replica();
    const verdicts = [];
    for (let i = 0; i < 6; i++)
      verdicts.push(outcome(await (i % 2 ? b : a).limits.admit(field({ subjectKey: `m${i}` }))));
    expect(verdicts.slice(0, 4)).toEqual(['lead', 'lead', 'lead', 'lead']);
    expect(verdicts[4]).toMatch(
      /^RATE_LIMITED: Too many token requests from this caller; retry after (59|60) s\.$/,
    );
    expect(verdicts[5]).toBe(verdicts[4]);
    // Four admitted, two refused: the budget spent is four, not six.
    expect(await a.limits.budgetRemaining()).toBe(6);
    expect(await b.limits.budgetRemaining()).toBe(6);
    expect(a.limits.sharing()).toBe('shared');
  });

  it('counts a request’s refused fields in one admission, whatever room is left, across replicas', async () => {
    await flush();
    const a = await replica();
    const b = await replica();
    const refused = (n: number) =>
      a.limits
        .admit(field({ callerKey: 'key:prober', subjectKey: undefined, call: false, refusedFields: n }))
        .then(outcome);
    // The caller limit is 4 a minute: 3 refused fields, then one field of its own fits, then none.
    expect(await refused(3)).toBe('lead');
    expect(await b.limits.admit(field({ callerKey: 'key:prober', subjectKey: 'm1' })).then(outcome)).toBe(
      'lead',
    );
    expect(await b.limits.admit(field({ callerKey: 'key:prober', subjectKey: 'm2' })).then(outcome)).toMatch(
      /^RATE_LIMITED: Too many token requests from this caller/,
    );
    // Refused fields beyond the room are counted all the same, never refused themselves.
    expect(await refused(10)).toBe('lead');
  });

  it('keeps the budget for refreshes when it runs low, and never refuses a revocation', async () => {
    await flush();
    const a = await replica();
    const b = await replica();
    const admit = (r: typeof a, operation: FieldAdmission['operation'], i: number) =>
      r.limits.admit(field({ operation, callerKey: `caller${i}`, subjectKey: `s${i}` })).then(outcome);
    // Budget 10: new mints stop at 9 (90 %), refreshes at 10, revocations never.
    const mints = [];
    for (let i = 0; i < 10; i++) mints.push(await admit(i % 2 ? a : b, 'issue', i));
    expect(mints.filter((m) => m === 'lead')).toHaveLength(9);
    expect(mints[9]).toMatch(
      /^RATE_LIMITED: The gateway's share of Circle's rate limit is spent; retry after \d+ s\.$/,
    );
    expect(await admit(a, 'refresh', 20)).toBe('lead');
    expect(await admit(b, 'refresh', 21)).toMatch(/^RATE_LIMITED: The gateway's share/);
    expect(await admit(a, 'revoke_refresh', 22)).toBe('lead');
    expect(await admit(b, 'revoke_access', 23)).toBe('lead');
    expect(await a.limits.budgetRemaining()).toBe(0);
    // A field that makes no call of its own (a repeat, a joined flight) spends no budget.
    expect(await a.limits.admit(field({ callerKey: 'c', subjectKey: 'x', call: false })).then(outcome)).toBe(
      'lead',
    );
  });

  it('shares the anonymous share of the budget across replicas, revocations included, and leaves the rest', async () => {
    await flush();
    const a = await replica();
    const b = await replica();
    // Budget 20, anonymous 25 %: strangers together get 5 calls, then even their revocations stop.
    const anonymous = {
      ...limits,
      circleBudgetPer5Min: 20,
      anonymousBudgetPercent: 25,
      perAnonymousCallerPerMinute: 100,
    };
    const ra = createRateLimits(anonymous, a.state.store);
    const rb = createRateLimits(anonymous, b.state.store);
    const stranger = (r: RateLimits, i: number) =>
      r
        .admit(
          field({
            operation: 'revoke_refresh',
            callerKey: `ip:198.51.100.${i}`,
            subjectKey: `t${i}`,
            anonymous: true,
          }),
        )
        .then(outcome);
    const verdicts = [];
    for (let i = 0; i < 7; i++) verdicts.push(await stranger(i % 2 ? rb : ra, i));
    expect(verdicts.slice(0, 5)).toEqual(['lead', 'lead', 'lead', 'lead', 'lead']);
    for (const verdict of verdicts.slice(5))
      expect(verdict).toMatch(
        /^RATE_LIMITED: The share of Circle's rate limit for callers without credentials is spent; retry after \d+ s, or authenticate\.$/,
      );
    // What strangers spent counts in the whole budget; authenticated callers have the rest.
    expect(await ra.budgetRemaining()).toBe(15);
    expect(await rb.admit(field({ callerKey: 'key:billing', subjectKey: 'member-z' })).then(outcome)).toBe(
      'lead',
    );
    expect(await ra.budgetRemaining()).toBe(14);
  });

  it('lets one replica lead a refresh flight and the others join it without budget', async () => {
    await flush();
    const a = await replica();
    const b = await replica();
    const key = a.state.flights.key('a-refresh-token-value');
    expect(key).toBe(b.state.flights.key('a-refresh-token-value'));
    const flight = { key, ttlMs: a.state.flights.holdMs };
    expect(await a.limits.admit(field({ operation: 'refresh', flight })).then(outcome)).toBe('lead');
    expect(
      await b.limits.admit(field({ operation: 'refresh', flight, callerKey: 'other' })).then(outcome),
    ).toBe('join');
    expect(await a.limits.budgetRemaining()).toBe(9);
    const waited = b.state.flights.wait(key);
    await a.state.flights.publish(key, '{"ok":{"access_token":"the-new-access-token"}}');
    expect(await waited).toBe('{"ok":{"access_token":"the-new-access-token"}}');
    // Published and ended: the next refresh of that token leads a flight of its own.
    expect(await b.limits.admit(field({ operation: 'refresh', flight })).then(outcome)).toBe('lead');
  });

  it('holds no token, key or email, only keyed hashes with short TTLs', async () => {
    const a = await replica();
    const secret = 'refresh-token-that-must-not-appear';
    const flight = { key: a.state.flights.key(secret), ttlMs: a.state.flights.holdMs };
    await a.limits.admit(field({ callerKey: 'key:billing-secret-name', subjectKey: 'ada@example.com' }));
    await a.limits.admit(field({ operation: 'refresh', subjectKey: secret, flight }));
    await a.state.flights.publish(flight.key, `{"ok":{"access_token":"${secret}-access"}}`);
    const entries = await redis.dump();
    expect(entries.length).toBeGreaterThan(3);
    for (const { key, value, ttlMs } of entries) {
      expect(key.startsWith(KEY_PREFIX), key).toBe(true);
      for (const plain of [secret, 'billing-secret-name', 'ada@example.com', appToken]) {
        expect(key).not.toContain(plain);
        expect(value).not.toContain(plain);
      }
      expect(ttlMs, key).toBeGreaterThan(0);
      expect(ttlMs, key).toBeLessThanOrEqual(5 * 60_000);
    }
  });

  it('falls back to per-replica insurance when Redis dies, says so once, and shares again when it returns', async () => {
    await flush();
    const a = await replica();
    logLines.length = 0;
    await redis.kill();
    const started = Date.now();
    // Caller limit 4 over 2 replicas: 2 for this one while Redis is out.
    const verdicts = [];
    for (let i = 0; i < 4; i++)
      verdicts.push(await a.limits.admit(field({ callerKey: 'outage', subjectKey: `o${i}` })).then(outcome));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(verdicts.slice(0, 2)).toEqual(['lead', 'lead']);
    expect(verdicts[2]).toMatch(/^RATE_LIMITED: Too many token requests from this caller/);
    expect(a.limits.sharing()).toBe('insurance');
    expect(await a.limits.budgetRemaining()).toBe(5 - 2);
    const warnings = logLines.filter((l) => String(l.msg).startsWith('Redis unreachable'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain(redis.url);

    await redis.restart();
    for (let i = 0; i < 60 && a.limits.sharing() !== 'shared'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(a.limits.sharing()).toBe('shared');
    expect(logLines.filter((l) => String(l.msg).startsWith('Redis reachable'))).toHaveLength(1);
    // A Redis that restarted empty starts the shared counts afresh.
    expect(await a.limits.admit(field({ callerKey: 'outage', subjectKey: 'after' })).then(outcome)).toBe(
      'lead',
    );
  }, 20_000);

  it('never waits on a Redis that hangs longer than its command deadline', async () => {
    await flush();
    const a = await replica(redis.url, 150);
    redis.pause();
    try {
      const started = Date.now();
      const verdicts = [];
      for (let i = 0; i < 5; i++)
        verdicts.push(await a.limits.admit(field({ subjectKey: `h${i}` })).then(outcome));
      // The first waits for its deadline (150 ms); the rest go straight to the insurance.
      expect(Date.now() - started).toBeLessThan(1000);
      expect(verdicts.slice(0, 2)).toEqual(['lead', 'lead']);
      expect(a.limits.sharing()).toBe('insurance');
    } finally {
      redis.resume();
    }
    for (let i = 0; i < 60 && a.limits.sharing() !== 'shared'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(a.limits.sharing()).toBe('shared');
  }, 20_000);

  it('starts without Redis, on insurance, and shares once Redis is there', async () => {
    const port = redis.port;
    await redis.kill();
    const started = Date.now();
    const a = await replica(`redis://127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(a.limits.sharing()).toBe('insurance');
    expect(await a.limits.admit(field({ subjectKey: 'early' })).then(outcome)).toBe('lead');
    // A share of nothing stays nothing on insurance: no call for strangers with ANONYMOUS_BUDGET_PERCENT=0.
    const none = createRateLimits({ ...limits, anonymousBudgetPercent: 0 }, a.state.store);
    expect(
      await none
        .admit(field({ operation: 'revoke_refresh', callerKey: 'ip:198.51.100.9', anonymous: true }))
        .then(outcome),
    ).toMatch(/^RATE_LIMITED: The share of Circle's rate limit for callers without credentials is spent/);
    await redis.restart();
    for (let i = 0; i < 100 && a.limits.sharing() !== 'shared'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(a.limits.sharing()).toBe('shared');
  }, 20_000);
});
