/**
 * `npm run bench:flood [-- <other checkout>]`: what strangers can do to a backend. For this
 * checkout's gateway (and a baseline checkout's, built, when given: a `git worktree` of an older
 * commit), each alone against its own sandbox, with production settings and Circle's default
 * budget share (1800 calls per 5 minutes):
 *
 * 1. Budget flood: three anonymous clients, each from its own loopback address (127.0.0.2–4),
 *    send 12 requests of 50 aliased `revokeRefreshToken` with random tokens of Circle's shape, as
 *    fast as they can (the attack that spent the whole budget in about 5 s); then a backend mints
 *    at 20 a second for 5 s. Printed: upstream calls the flood made, the backend's mints that got a
 *    token, and its p50/p99.
 * 2. `_entities`: one anonymous request of 1500 representations (about 90 kB): the gateway's CPU
 *    for it, the audit lines it wrote; then a backend's p50 while two such clients loop.
 *
 * Loopback only, bounded in count and time; every process it starts is killed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, fetch } from 'undici';
import { benchApiKey, buildAndStartSandbox, cpuMs, type Launched, launchClean, median } from './launch.js';

const appToken = 'flood-bench-app-token-0123456789';
const launched: Launched[] = [];
const start = (script: string, env: Record<string, string>, ready: RegExp) => {
  const child = launchClean(script, env, ready);
  launched.push(child);
  return child;
};

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gateway(checkout: string, sandboxUrl: string) {
  const audit = join(mkdtempSync(join(tmpdir(), 'cag-flood-')), 'audit.jsonl');
  const child = start(
    join(checkout, 'dist/main.js'),
    {
      NODE_ENV: 'production',
      CIRCLE_APP_TOKEN: appToken,
      CIRCLE_BASE_URL: sandboxUrl,
      GATEWAY_API_KEYS: `backend:${benchApiKey}`,
      PORT: '0',
      METRICS_PORT: 'off',
      LOG_LEVEL: 'warn',
      AUDIT_LOG_FILE: audit,
      // The backend's own limits out of the way: what is measured is what strangers leave it.
      RATE_LIMIT_PER_CALLER: '1000000',
      RATE_LIMIT_PER_MEMBER: '1000000',
    },
    /listening at (http:\/\/\S+\/graphql)/,
  );
  return { url: String((await child.match)[1]), pid: child.child.pid as number, audit };
}

const from = (n: number) => new Agent({ localAddress: `127.0.0.${n}`, connections: 4 });
const post = async (url: string, query: object, headers: Record<string, string> = {}, dispatcher?: Agent) => {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(query),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await response.text();
  return { ms: performance.now() - started, status: response.status, text };
};

const mint = { query: '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }' };
/** A backend minting at `perSecond` for `seconds`: how many got a token, and the latencies. */
async function backendLoad(url: string, perSecond: number, seconds: number) {
  const answers: Promise<{ ms: number; ok: boolean }>[] = [];
  for (let i = 0; i < perSecond * seconds; i += 1) {
    answers.push(
      post(url, mint, { 'x-api-key': benchApiKey }).then((a) => ({
        ms: a.ms,
        ok: a.text.includes('"MemberToken"'),
      })),
    );
    await sleep(1000 / perSecond);
  }
  const done = await Promise.all(answers);
  const ms = done.map((a) => a.ms);
  return {
    ok: done.filter((a) => a.ok).length,
    total: done.length,
    p50: median(ms),
    p99: percentile(ms, 0.99),
  };
}

async function upstreamCalls(sandboxUrl: string): Promise<number> {
  const stats = (await (
    await fetch(`${sandboxUrl}/__sandbox/stats`, { headers: { authorization: `Bearer ${appToken}` } })
  ).json()) as { calls: Record<string, number> };
  return Object.values(stats.calls).reduce((a, b) => a + b, 0);
}

async function measure(checkout: string) {
  const { sandbox, sandboxUrl } = await buildAndStartSandbox(appToken, start);
  try {
    const gw = await gateway(checkout, sandboxUrl);
    // 1. The budget flood.
    // Fresh tokens in every request: nothing to answer from memory.
    const revoke = () => ({
      query: `mutation { ${Array.from({ length: 50 }, (_, i) => `r${i}: revokeRefreshToken(refreshToken: "${randomBytes(32).toString('base64url')}") { __typename }`).join(' ')} }`,
    });
    const floodStarted = performance.now();
    const before = await upstreamCalls(sandboxUrl);
    await Promise.all(
      [2, 3, 4].map(async (n) => {
        const agent = from(n);
        for (let i = 0; i < 12; i += 1) await post(gw.url, revoke(), {}, agent);
        await agent.close();
      }),
    );
    const floodMs = performance.now() - floodStarted;
    const floodCalls = (await upstreamCalls(sandboxUrl)) - before;
    const backend = await backendLoad(gw.url, 20, 5);

    // 2. `_entities` from a stranger: 1500 representations (past the new cap), and 100 (at it).
    const entitiesOf = (count: number) => ({
      query:
        'query ($r: [_Any!]!) { _entities(representations: $r) { ... on CircleMember { token { __typename } } } }',
      variables: {
        r: Array.from({ length: count }, (_, i) => ({
          __typename: 'CircleMember',
          email: `m${i}@example.com`,
        })),
      },
    });
    const entities = entitiesOf(1500);
    const once = async (query: object) => {
      await sleep(1500); // the audit file's buffer written out
      const auditBefore = readFileSync(gw.audit, 'utf8').split('\n').length;
      const cpuBefore = cpuMs(gw.pid);
      const answer = await post(gw.url, query);
      const cpu = cpuMs(gw.pid) - cpuBefore;
      await sleep(1500);
      return {
        status: answer.status,
        cpu,
        auditLines: readFileSync(gw.audit, 'utf8').split('\n').length - auditBefore,
      };
    };
    const single = await once(entities);
    const atCap = await once(entitiesOf(100));
    let looping = true;
    const strangers = [5, 6].map(async (n) => {
      const agent = from(n);
      for (let i = 0; looping && i < 40; i += 1) await post(gw.url, entities, {}, agent);
      await agent.close();
    });
    // A backend's own work meanwhile: revocations (never refused for budget), at 20 a second.
    const times: number[] = [];
    for (let i = 0; i < 60; i += 1) {
      const answer = await post(
        gw.url,
        { query: `mutation { revokeAccessToken(accessToken: "x") { __typename } }` },
        { 'x-api-key': benchApiKey },
      );
      times.push(answer.ms);
      await sleep(50);
    }
    looping = false;
    await Promise.all(strangers);
    return {
      floodMs,
      floodCalls,
      backend,
      entities: {
        single,
        atCap,
        backendP50: median(times),
        backendP99: percentile(times, 0.99),
      },
    };
  } finally {
    sandbox.child.kill('SIGKILL');
  }
}

try {
  const checkouts: [string, string][] = [['this checkout', '.']];
  if (process.argv[2]) checkouts.unshift(['baseline', resolve(process.argv[2])]);
  console.log(`node ${process.version}; loopback; anonymous clients from 127.0.0.2-6`);
  for (const [name, checkout] of checkouts) {
    const r = await measure(checkout);
    console.log(
      `${name}: flood of 36 x 50 anonymous revocations: ${r.floodCalls} upstream calls in ${(r.floodMs / 1000).toFixed(1)} s; ` +
        `backend mints after it: ${r.backend.ok}/${r.backend.total} got a token, p50 ${r.backend.p50.toFixed(1)} ms, p99 ${r.backend.p99.toFixed(1)} ms`,
    );
    console.log(
      `${name}: _entities from a stranger: x1500 HTTP ${r.entities.single.status}, ${r.entities.single.cpu} ms gateway CPU, ${r.entities.single.auditLines} audit lines; ` +
        `x100 HTTP ${r.entities.atCap.status}, ${r.entities.atCap.cpu} ms, ${r.entities.atCap.auditLines} audit lines; ` +
        `backend p50 ${r.entities.backendP50.toFixed(1)} ms, p99 ${r.entities.backendP99.toFixed(1)} ms while two such strangers loop`,
    );
  }
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
}
