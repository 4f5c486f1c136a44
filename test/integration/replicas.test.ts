import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, type Launched, launch } from '../../bench/launch.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type RedisServer, redisMissing, startRedis } from '../../support/redis.js';
import { memberTokenFields } from '../support/stack.js';
import { shapedAccessToken, shapedRefreshToken } from '../support/tokens.js';

/**
 * Three gateway processes against one redis-server and one sandbox, the way replicas run behind a
 * load balancer: Circle's budget, the per-member limit and refresh flights are shared; revocations
 * pass a spent budget; Redis killed and restarted under load leaves every answer typed, and sharing
 * comes back by itself; Redis never holds a token, key or email.
 */
const apiKey = 'replicas-test-api-key-0123456789';
const BUDGET = 40;
const PER_MEMBER = 32;

interface Replica {
  process: Launched;
  url: string;
  metricsUrl: string;
}

let redis: RedisServer;
let sandbox: Sandbox;
const replicas: Replica[] = [];
const secrets: string[] = [apiKey];

type Field = { __typename: string; code?: string; message?: string; retryAfterSeconds?: number } & Record<
  string,
  unknown
>;

async function post(replica: Replica, query: string): Promise<{ status: number; fields: Field[] }> {
  const response = await fetch(replica.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: Record<string, Field>; errors?: unknown[] };
  if (body.errors) throw new Error(`errors from ${replica.url}: ${JSON.stringify(body.errors)}`);
  return { status: response.status, fields: Object.values(body.data ?? {}) };
}

const on = (i: number) => replicas[i % replicas.length] as Replica;
const mint = (email: string, alias = 'm') =>
  `${alias}: memberToken(by: EMAIL, value: "${email}") { ${memberTokenFields} }`;
const count = (fields: Field[], typename: string) => fields.filter((f) => f.__typename === typename).length;

beforeAll(async () => {
  if (redisMissing) return;
  buildDist();
  redis = await startRedis();
  sandbox = await startSandbox();
  for (let i = 0; i < 3; i++) {
    const process = launch(
      'dist/main.js',
      {
        PATH: globalThis.process.env.PATH ?? '',
        CIRCLE_APP_TOKEN: sandbox.appToken,
        CIRCLE_BASE_URL: sandbox.url,
        GATEWAY_API_KEYS: `tests:${apiKey}`,
        REDIS_URL: redis.url,
        GATEWAY_REPLICAS: '3',
        CIRCLE_REQUEST_BUDGET: String(BUDGET),
        RATE_LIMIT_PER_MEMBER: String(PER_MEMBER),
        UPSTREAM_TIMEOUT_MS: '3000',
        PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      /listening at (http:\S+\/graphql)\nmetrics at (http:\S+)\n/,
    );
    const [, url, metricsUrl] = await process.match;
    replicas.push({ process, url: url as string, metricsUrl: metricsUrl as string });
  }
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) replica.process.child.kill('SIGKILL');
  await sandbox?.close();
  await redis?.stop();
});

describe.skipIf(redisMissing)('three replicas sharing one Redis', () => {
  it('share the per-member limit', async () => {
    // Twelve aliases of one member on each replica in turn: 36 fields, the limit is 32 a minute.
    const fields: Field[] = [];
    for (let i = 0; i < 3; i++) {
      const query = `{ ${Array.from({ length: 12 }, (_, a) => mint('ada@example.com', `a${a}`)).join(' ')} }`;
      fields.push(...(await post(on(i), query)).fields);
    }
    expect(count(fields, 'MemberToken')).toBe(PER_MEMBER);
    expect(fields.slice(PER_MEMBER).map((f) => f.message)).toEqual(
      Array(4).fill(expect.stringMatching(/^Too many token requests for this member; retry after \d+ s\.$/)),
    );
    // One upstream call per request: the aliases were repeats.
    expect(sandbox.stats().calls.authToken).toBe(3);
    for (const f of fields.slice(0, PER_MEMBER)) secrets.push(String(f.accessToken), String(f.refreshToken));
  });

  it('make one upstream call for 30 concurrent refreshes of one token, and all get its access token', async () => {
    const ada = (await post(on(0), `{ ${mint('grace@example.com')} }`)).fields[0] as Field;
    const refreshToken = String(ada.refreshToken);
    secrets.push(refreshToken, String(ada.accessToken));
    await sandbox.setFaults({ latencyMs: 400 });
    const before = sandbox.stats().calls.refresh;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post(
          on(i),
          `mutation { r: refreshToken(refreshToken: "${refreshToken}") { __typename ... on AccessToken { accessToken } ... on Error { code message } } }`,
        ),
      ),
    );
    await sandbox.setFaults({});
    const tokens = answers.map((a) => (a.fields[0] as Field).accessToken ?? JSON.stringify(a.fields[0]));
    expect(sandbox.stats().calls.refresh - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(String(tokens[0])).toMatch(/^ey/);
    secrets.push(String(tokens[0]));
  });

  it('share Circle’s budget: mints stop at 90 %, a revocation passes a spent budget, then refreshes stop', async () => {
    // Spent so far: 4 mints and 1 refresh. Mints stop once 36 of the 40 are spent: 31 more.
    const fields: Field[] = [];
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        Array.from({ length: 9 }, (_, i) => post(on(i), `{ ${mint(`nobody${round * 9 + i}@example.com`)} }`)),
      );
      fields.push(...answers.flatMap((a) => a.fields));
    }
    expect(sandbox.stats().calls.authToken).toBe(35);
    expect(count(fields, 'MemberNotFound')).toBe(31);
    const refused = fields.filter((f) => f.__typename === 'RateLimited');
    expect(refused).toHaveLength(45 - 31);
    for (const f of refused) {
      expect(f.message).toMatch(/^The gateway's share of Circle's rate limit is spent; retry after \d+ s\.$/);
      expect(f.retryAfterSeconds).toBeGreaterThan(0);
    }
    // 36 used: the refreshes' reserve is left, and revocations are never refused for budget.
    const revokes = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        post(
          on(i),
          `mutation { r: revokeAccessToken(accessToken: "${shapedAccessToken(i + 1)}") { __typename ... on TokenRevoked { revoked } } }`,
        ),
      ),
    );
    expect(revokes.map((r) => r.fields[0]?.__typename)).toEqual(Array(5).fill('TokenRevoked'));
    expect(sandbox.stats().calls.revokeAccess).toBe(5);
    const refresh = await post(
      on(1),
      `mutation { r: refreshToken(refreshToken: "${shapedRefreshToken()}") { __typename ... on Error { code message } } }`,
    );
    expect(refresh.fields[0]?.message).toMatch(/^The gateway's share of Circle's rate limit is spent/);
  });

  it('leave no token, key or email in Redis: keyed hashes and sealed values, with TTLs', async () => {
    const entries = await redis.dump();
    expect(entries.length).toBeGreaterThan(3);
    for (const { key, value, ttlMs } of entries) {
      expect(key.startsWith('cag:v1:'), key).toBe(true);
      for (const secret of [...secrets, sandbox.appToken, 'ada@example.com', 'grace@example.com', 'tests']) {
        expect(`${key} ${value}`.includes(secret), `${secret.slice(0, 6)}… in ${key}`).toBe(false);
      }
      expect(ttlMs, key).toBeGreaterThan(0);
    }
  });

  it('answer every request typed while Redis dies and returns, and share again after', async () => {
    let stop = false;
    const statuses: number[] = [];
    const typenames: string[] = [];
    let n = 0;
    const load = async (worker: number) => {
      while (!stop) {
        const i = n++;
        const answer = await post(on(worker + i), `{ ${mint(`load${i}@example.com`)} }`);
        statuses.push(answer.status);
        typenames.push(...answer.fields.map((f) => f.__typename));
      }
    };
    const workers = [0, 1, 2, 3].map(load);
    await new Promise((r) => setTimeout(r, 300));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 800));
    const ready = await Promise.all(
      replicas.map((r) => fetch(r.url.replace(/\/graphql$/, '/ready')).then((x) => x.json())),
    );
    await redis.restart();
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers);
    // Each replica probes Redis every second: sharing is back within a few.
    const sharing = async (replica: Replica) =>
      (await fetch(replica.metricsUrl).then((r) => r.text())).includes(
        'gateway_shared_state{state="shared"} 1',
      );
    for (let i = 0; i < 60 && !(await Promise.all(replicas.map(sharing))).every(Boolean); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }

    expect(statuses.length).toBeGreaterThan(20);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(new Set(typenames).size).toBeGreaterThan(0);
    for (const typename of typenames) expect(['MemberNotFound', 'RateLimited']).toContain(typename);
    for (const body of ready as { ready: boolean; reason: string }[]) {
      expect(body.reason).toMatch(
        /Redis is unreachable: rate limits, the budget and refresh flights are per replica until it answers again\.$/,
      );
    }
    // Back: each replica shares again, and the restarted (empty) Redis counts the budget afresh.
    for (const replica of replicas) {
      const metrics = await fetch(replica.metricsUrl).then((r) => r.text());
      expect(metrics).toContain('gateway_shared_state{state="shared"} 1');
    }
    const after = await post(on(0), `{ ${mint('after-restart@example.com')} }`);
    expect(after.fields[0]?.__typename).toBe('MemberNotFound');
    // The outage was logged once per replica, without the URL.
    for (const replica of replicas) {
      const output = replica.process.output();
      expect(output.match(/Redis unreachable/g)).toHaveLength(1);
      expect(output).not.toContain(redis.url);
    }
  }, 30_000);
});
