/**
 * `npm run bench:observability`: what metrics, the access log and the audit trail cost, against the
 * same build with them off. Two gateways (`node dist/main.js`, API-key auth, limits on but raised out
 * of the way, no trace exporter) run side by side on one fake of Circle (bench/peers/upstream.mjs):
 * "off" (METRICS_PORT=off, LOG_LEVEL=warn, audit to /dev/null) and "on" (metrics served and scraped
 * every second, LOG_LEVEL=info: one access-log line per request, audit to a file). Each round loads
 * both at once, 16 connections each, for BENCH_DURATION s (default 5), and reads each one's CPU from
 * /proc: both see the same moment of a shared, noisy machine, so their ratio is steadier than two
 * rounds taken one after the other (which moved by ±25 % here). BENCH_ROUNDS (default 5) rounds;
 * the median ratio and every round's are printed. BENCH_OBSERVABILITY=metrics,access,audit (all by
 * default) says what "on" turns on. BENCH_RATE=<requests a second> loads each gateway at that rate
 * rather than as fast as it answers, so that both do the same work per second (the slower one is not
 * measured at a lighter load, where a request costs more).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchApiKey,
  benchAppToken,
  benchGatewayEnv,
  buildDist,
  type Launched,
  launchClean as launch,
} from './launch.js';
import { pairedRounds, report } from './paired.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const rate = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'cag-observability-'));
const parts = (process.env.BENCH_OBSERVABILITY ?? 'metrics,access,audit').split(',');
const launched: Launched[] = [];

const query = JSON.stringify({
  query:
    '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken } ... on Error { code } } }',
});

interface Gateway {
  url: string;
  pid: number;
  scraper?: NodeJS.Timeout;
}

async function start(upstream: string, on: boolean): Promise<Gateway> {
  const metricsOn = on && parts.includes('metrics');
  const gateway = launch(
    'dist/main.js',
    {
      ...benchGatewayEnv(upstream),
      METRICS_PORT: metricsOn ? '0' : 'off',
      LOG_LEVEL: on && parts.includes('access') ? 'info' : 'warn',
      AUDIT_LOG_FILE: on && parts.includes('audit') ? join(dir, 'audit.jsonl') : '/dev/null',
    },
    // Without metrics the banner has no metrics line to wait for.
    metricsOn
      ? /listening at (http:\/\/\S+\/graphql)\nmetrics at (http:\/\/\S+)/
      : /listening at (http:\/\/\S+\/graphql)/,
  );
  launched.push(gateway);
  const match = await gateway.match;
  return {
    url: String(match[1]),
    pid: gateway.child.pid as number,
    ...(metricsOn && process.env.BENCH_SCRAPE !== '0'
      ? { scraper: setInterval(() => void fetch(String(match[2])).then((r) => r.text()), 1000) }
      : {}),
  };
}

try {
  buildDist();
  const upstream = launch(
    'bench/peers/upstream.mjs',
    { BENCH_APP_TOKEN: benchAppToken },
    /listening at (http:\/\/\S+)/,
  );
  launched.push(upstream);
  const upstreamUrl = String((await upstream.match)[1]);
  const off = await start(upstreamUrl, false);
  const on = await start(upstreamUrl, true);
  const target = (g: Gateway) => ({
    url: g.url,
    pid: g.pid,
    headers: { 'x-api-key': benchApiKey },
    body: query,
  });
  const rows = await pairedRounds(target(off), target(on), rounds, duration, 16, rate);
  clearInterval(on.scraper);
  console.log(
    `${rounds} rounds of ${duration} s, both gateways loaded at once (16 connections each${rate ? `, ${rate} requests a second` : ''}); "on": ${parts.join(', ')}`,
  );
  console.log(report(rows, ['off', 'on'], 'at most 1.10'));
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
}
