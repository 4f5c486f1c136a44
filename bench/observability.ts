/**
 * `npm run bench:observability`: what metrics, the access log and the audit trail cost, against the
 * same build with them off. Two gateways (`node dist/main.js`, API-key auth, limits on but raised out
 * of the way, no trace exporter) run side by side on one fake of Circle (bench/peers/upstream.mjs):
 * "off" (METRICS_PORT=off, LOG_LEVEL=warn, audit to /dev/null) and "on" (metrics served and scraped
 * every second, LOG_LEVEL=info: one access-log line per request, audit to a file). Each round starts
 * a fresh pair (the first to start alternates), warms both up for 2 s and loads both at once, 16
 * connections each, for BENCH_DURATION s (default 5), reading each one's CPU from /proc: both see
 * the same moment of a shared, noisy machine, so their ratio is steadier than two rounds taken one
 * after the other (which moved by ±25 % here). Fresh processes each round, because one pair kept for
 * every round can carry a bias of its own through all of them: two identical gateways, kept, gave
 * 0.882 in one run (0.995 and 0.998 in the next two). BENCH_ROUNDS (default 7) rounds; the median
 * ratio and every round's are printed. BENCH_OBSERVABILITY=metrics,access,audit (all by
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
  memberTokenBody,
} from './launch.js';
import { type PairedRound, pairedRounds, report } from './paired.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const rate = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'cag-observability-'));
const parts = (process.env.BENCH_OBSERVABILITY ?? 'metrics,access,audit').split(',');
const launched: Launched[] = [];

const query = memberTokenBody(
  'query MemberToken($value: String!) { memberToken(by: EMAIL, value: $value) { ... on MemberToken { accessToken } ... on Error { code } } }',
);

interface Gateway {
  url: string;
  pid: number;
  stop(): void;
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
  const scraper =
    metricsOn && process.env.BENCH_SCRAPE !== '0'
      ? setInterval(() => void fetch(String(match[2])).then((r) => r.text()), 1000)
      : undefined;
  return {
    url: String(match[1]),
    pid: gateway.child.pid as number,
    stop() {
      clearInterval(scraper);
      gateway.child.kill('SIGKILL');
    },
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
  const target = (g: Gateway) => ({
    url: g.url,
    pid: g.pid,
    headers: { 'x-api-key': benchApiKey },
    body: query,
  });
  const rows: PairedRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const onFirst = round % 2 === 1;
    const first = await start(upstreamUrl, onFirst);
    const second = await start(upstreamUrl, !onFirst);
    const [off, on] = onFirst ? [second, first] : [first, second];
    try {
      rows.push(...(await pairedRounds(target(off), target(on), 1, duration, 16, rate)));
    } finally {
      off.stop();
      on.stop();
    }
  }
  console.log(
    `${rounds} rounds of ${duration} s, each with a fresh pair of gateways loaded at once (16 connections each${rate ? `, ${rate} requests a second` : ''}); "on": ${parts.join(', ')}`,
  );
  console.log(report(rows, ['off', 'on'], 'at most 1.10'));
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
}
