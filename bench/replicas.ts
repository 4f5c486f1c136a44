/**
 * `npm run bench -- --redis`: what sharing state through Redis costs. Three gateway replicas
 * (`node dist/main.js`) on one sandbox, under autocannon spread over them (BENCH_CONNECTIONS in
 * all, default 32), in two configurations measured in rounds interleaved in one session
 * (BENCH_ROUNDS, default 4, of BENCH_DURATION s, default 5): each replica counting in its own
 * memory (no REDIS_URL), and all three sharing one redis-server. Limits and Circle's budget are on
 * (raised out of the way) so that every field runs the admission script; the sandbox, Redis, the
 * load generator and the replicas share the machine's cores. CPU is read from /proc per process.
 */
import autocannon from 'autocannon';
import { startRedis } from '../support/redis.js';
import {
  benchMembersFile,
  buildAndStartSandbox,
  cpuMs,
  forNextMember,
  type Launched,
  launchClean as launch,
  memberTokenBody,
} from './launch.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const appToken = 'replicas-bench-app-token';
const apiKey = 'replicas-bench-api-key-0123456789';

const redis = await startRedis();
const { sandbox, sandboxUrl } = await buildAndStartSandbox(appToken, undefined, {
  SANDBOX_MEMBERS_FILE: benchMembersFile(),
});
const body = memberTokenBody(
  'query MemberToken($value: String!) { memberToken(by: EMAIL, value: $value) { ... on MemberToken { accessToken } ... on Error { code } } }',
);
const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };

interface Round {
  rps: number;
  cpuPer1000: number;
  redisCpuPer1000: number;
  p50: number;
  p99: number;
  errors: number;
}

async function round(shared: boolean): Promise<Round> {
  const replicas: Launched[] = [0, 1, 2].map(() =>
    launch(
      'dist/main.js',
      {
        CIRCLE_APP_TOKEN: appToken,
        CIRCLE_BASE_URL: sandboxUrl,
        PORT: '0',
        METRICS_PORT: 'off',
        LOG_LEVEL: 'warn',
        AUDIT_LOG_FILE: '/dev/null',
        GATEWAY_API_KEYS: `bench:${apiKey}`,
        RATE_LIMIT_PER_CALLER: '1000000',
        RATE_LIMIT_PER_MEMBER: '1000000',
        CIRCLE_REQUEST_BUDGET: '1000000',
        UPSTREAM_CONNECTIONS: '32',
        ...(shared ? { REDIS_URL: redis.url, GATEWAY_REPLICAS: '3' } : {}),
      },
      /listening at (http:\S+\/graphql)/,
    ),
  );
  try {
    const urls = await Promise.all(replicas.map(async (r) => String((await r.match)[1])));
    const share = (i: number) => Math.floor(connections / 3) + (i < connections % 3 ? 1 : 0);
    const load = (seconds: number) =>
      Promise.all(
        urls.map((url, i) =>
          autocannon({
            url,
            method: 'POST',
            headers,
            body,
            connections: share(i),
            duration: seconds,
            // Each request for the next of 64 members (launch.ts): no two mints in flight coalesce.
            requests: [{ setupRequest: (r: autocannon.Request) => ({ ...r, body: forNextMember(body) }) }],
          }),
        ),
      );
    await load(2);
    const pids = replicas.map((r) => r.child.pid as number);
    const before = pids.map(cpuMs);
    const redisBefore = redis.pid ? cpuMs(redis.pid) : 0;
    const results = await load(duration);
    const cpu = pids.reduce((sum, pid, i) => sum + cpuMs(pid) - (before[i] as number), 0);
    const redisCpu = redis.pid ? cpuMs(redis.pid) - redisBefore : 0;
    const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
    return {
      rps: requests / duration,
      cpuPer1000: (cpu / requests) * 1000,
      redisCpuPer1000: (redisCpu / requests) * 1000,
      // The replicas' own percentiles, weighted by their requests.
      p50: results.reduce((sum, r) => sum + r.latency.p50 * r.requests.total, 0) / requests,
      p99: results.reduce((sum, r) => sum + r.latency.p99 * r.requests.total, 0) / requests,
      errors: results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0),
    };
  } finally {
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

try {
  process.stdout.write(
    `three replicas, ${connections} connections over them, ${rounds} rounds of ${duration} s per configuration, interleaved\n`,
  );
  const runs: Record<'memory' | 'redis', Round[]> = { memory: [], redis: [] };
  for (let i = 0; i < rounds; i++) {
    runs.memory.push(await round(false));
    runs.redis.push(await round(true));
  }
  const row = (name: string, r: Round[]) =>
    `${name.padEnd(28)} ${median(r.map((x) => x.rps))
      .toFixed(0)
      .padStart(7)} ${median(r.map((x) => x.cpuPer1000))
      .toFixed(0)
      .padStart(12)} ${median(r.map((x) => x.redisCpuPer1000))
      .toFixed(0)
      .padStart(10)} ${median(r.map((x) => x.p50))
      .toFixed(1)
      .padStart(7)} ${median(r.map((x) => x.p99))
      .toFixed(1)
      .padStart(7)} ${String(r.reduce((s, x) => s + x.errors, 0)).padStart(7)}\n`;
  process.stdout.write(
    `\n${'medians'.padEnd(28)} ${'req/s'.padStart(7)} ${'CPU ms/1000'.padStart(12)} ${'Redis ms'.padStart(10)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}\n`,
  );
  process.stdout.write(row('in-process (no REDIS_URL)', runs.memory));
  process.stdout.write(row('shared through Redis', runs.redis));
  const cpuRatio = median(runs.redis.map((x) => x.cpuPer1000)) / median(runs.memory.map((x) => x.cpuPer1000));
  const p99Delta = median(runs.redis.map((x) => x.p99)) - median(runs.memory.map((x) => x.p99));
  process.stdout.write(
    `\nreplicas' CPU per operation, Redis / in-process: ${cpuRatio.toFixed(2)} (aim ≤ 1.15)\np99, Redis − in-process: ${p99Delta >= 0 ? '+' : ''}${p99Delta.toFixed(1)} ms (aim ≤ 2 ms)\n`,
  );
  for (const [name, r] of Object.entries(runs)) {
    process.stdout.write(
      `${name} rounds: ${r.map((x) => `${x.rps.toFixed(0)} req/s, ${x.cpuPer1000.toFixed(0)} ms/1000, p99 ${x.p99.toFixed(1)}`).join('; ')}\n`,
    );
  }
  if ([...runs.memory, ...runs.redis].some((r) => r.errors > 0)) process.exitCode = 1;
} finally {
  sandbox.child.kill('SIGTERM');
  await redis.stop();
}
