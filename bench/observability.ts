/**
 * `npm run bench:observability`: what metrics, the access log and the audit trail cost, against the
 * same build with them off, in one session: the gateway (`node dist/main.js`, API-key auth, limits
 * on but raised out of the way, no trace exporter) under autocannon at 32 connections, rounds
 * interleaved off/on (BENCH_ROUNDS, default 3, of BENCH_DURATION s, default 5), CPU read from /proc.
 * Off: METRICS_PORT=off, LOG_LEVEL=warn, audit to /dev/null. On: metrics served and scraped every
 * second, LOG_LEVEL=info (one access-log line per request), audit to a file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildAndStartSandbox, cpuMs, launchClean as launch } from './launch.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const appToken = 'observability-bench-app-token';
const apiKey = 'observability-bench-api-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'cag-observability-'));
// What "on" turns on (all by default): BENCH_OBSERVABILITY=metrics,access,audit
const parts = (process.env.BENCH_OBSERVABILITY ?? 'metrics,access,audit').split(',');

const { sandbox, sandboxUrl } = await buildAndStartSandbox(appToken);
const query = JSON.stringify({
  query:
    '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken } ... on Error { code } } }',
});

async function round(on: boolean): Promise<{ rps: number; cpuPer1000: number; p99: number }> {
  const metricsOn = on && parts.includes('metrics');
  const gateway = launch(
    'dist/main.js',
    {
      CIRCLE_APP_TOKEN: appToken,
      CIRCLE_BASE_URL: sandboxUrl,
      PORT: '0',
      GATEWAY_API_KEYS: `bench:${apiKey}`,
      RATE_LIMIT_PER_CALLER: '1000000',
      RATE_LIMIT_PER_MEMBER: '1000000',
      CIRCLE_REQUEST_BUDGET: '0',
      UPSTREAM_CONNECTIONS: '32',
      METRICS_PORT: metricsOn ? '0' : 'off',
      LOG_LEVEL: on && parts.includes('access') ? 'info' : 'warn',
      AUDIT_LOG_FILE: on && parts.includes('audit') ? join(dir, 'audit.jsonl') : '/dev/null',
    },
    // Without metrics the banner has no metrics line to wait for.
    metricsOn
      ? /listening at (http:\/\/\S+\/graphql)\nmetrics at (http:\/\/\S+)/
      : /listening at (http:\/\/\S+\/graphql)/,
  );
  const match = await gateway.match;
  const url = String(match[1]);
  const scraper = metricsOn
    ? setInterval(() => void fetch(String(match[2])).then((r) => r.text()), 1000)
    : undefined;
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  await autocannon({ url, method: 'POST', headers, body: query, connections: 32, duration: 1 });
  const pid = gateway.child.pid as number;
  const before = cpuMs(pid);
  const result = await autocannon({ url, method: 'POST', headers, body: query, connections: 32, duration });
  const used = cpuMs(pid) - before;
  clearInterval(scraper);
  gateway.child.kill('SIGKILL');
  if (result.non2xx + result.errors > 0) throw new Error(`errors in a ${on ? 'on' : 'off'} round`);
  return {
    rps: result.requests.average,
    cpuPer1000: (used / result.requests.total) * 1000,
    p99: result.latency.p99,
  };
}

const results: Record<'off' | 'on', Array<{ rps: number; cpuPer1000: number; p99: number }>> = {
  off: [],
  on: [],
};
for (let i = 0; i < rounds; i++) {
  if (process.env.BENCH_VERBOSE) console.error(`round ${i + 1}`);
  results.off.push(await round(false));
  results.on.push(await round(true));
}
sandbox.child.kill('SIGKILL');
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
console.log(
  `${rounds} interleaved rounds of ${duration} s at 32 connections, medians (all rounds in brackets)`,
);
console.log('| observability | req/s | CPU ms per 1000 operations | p99 ms |');
console.log('|---|---|---|---|');
for (const mode of ['off', 'on'] as const) {
  const r = results[mode];
  const all = (f: (x: (typeof r)[number]) => number) => `(${r.map((x) => Math.round(f(x))).join(', ')})`;
  console.log(
    `| ${mode} | ${Math.round(median(r.map((x) => x.rps)))} ${all((x) => x.rps)} | ${Math.round(median(r.map((x) => x.cpuPer1000)))} ${all((x) => x.cpuPer1000)} | ${median(r.map((x) => x.p99))} |`,
  );
}
const ratio = median(results.on.map((x) => x.cpuPer1000)) / median(results.off.map((x) => x.cpuPer1000));
console.log(`CPU per operation, on / off: ${ratio.toFixed(3)} (aim: at most 1.10)`);
