/**
 * `npm run bench:ab -- <other checkout>`: this checkout's gateway against another's (a baseline: a
 * `git worktree` of an older commit, built with `npm ci && npm run build` there), both `node
 * dist/main.js` with the same settings as `npm run bench` (API keys, every limit on, metrics on),
 * on one fake of Circle, loaded at the same time in paired rounds (bench/paired.ts): the way to see
 * whether a change pays for itself on a machine whose rounds move by ±25 %. Each round starts a
 * fresh pair (the first to start alternating): one pair kept for every round carried a bias of its
 * own through the whole run (the same build against itself read 0.88 once). BENCH_ROUNDS (default
 * 7), BENCH_DURATION (s, default 5), BENCH_LATENCY (ms, default 0), BENCH_UNIQUE=1 for never-seen
 * documents (a fresh alias per request) instead of one repeated document. BENCH_BASELINE_ENV
 * and BENCH_ENV (`NAME=value,…`) set variables for the baseline and for this checkout: the same
 * checkout against itself with one setting changed is `npm run bench:ab -- .` with them.
 *
 * `npm run bench:ab -- apollo`: the baseline is Apollo Server (bench/peers/apollo.mjs, as `npm run
 * bench` runs it), loaded at the same time as this checkout's gateway, 32 connections each
 * (BENCH_CONNECTIONS), fresh pairs as above: the ratios of the aims against Apollo Server (CPU per
 * operation at 0 ms, throughput at 50 ms with BENCH_LATENCY=50) measured at one moment of the
 * machine: `npm run bench`'s rounds, one server after another, move too much from hour to hour
 * to tell a few per cent (bench/README.md, "Against Apollo Server at one moment").
 * BENCH_CHECKOUT names another checkout to measure in place of this one (a build from before).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  benchApiKey,
  benchAppToken,
  benchGatewayEnv,
  buildDist,
  type Launched,
  launchClean,
  median,
  memberTokenBody,
} from './launch.js';
import { type PairedRound, pairedRounds, report } from './paired.js';

const apollo = process.argv[2] === 'apollo';
const baseline = process.argv[2] && !apollo ? resolve(process.argv[2]) : undefined;
if (!apollo && (!baseline || !existsSync(join(baseline, 'dist/main.js')))) {
  process.stderr.write('usage: npm run bench:ab -- <checkout with a built dist/main.js> | apollo\n');
  process.exit(2);
}
/** The gateway measured: this checkout's, or BENCH_CHECKOUT's (an older build against Apollo Server). */
const measured = join(resolve(process.env.BENCH_CHECKOUT ?? '.'), 'dist/main.js');
const connections = Number(process.env.BENCH_CONNECTIONS ?? (apollo ? 32 : 16));
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const body = memberTokenBody();
let unique = 0;
const uniqueBody = () => body.replace('{ memberToken', `{ t${(unique++).toString(36)}: memberToken`);
const launched: Launched[] = [];

const envOf = (list: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (list ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
const baselineEnv = envOf(process.env.BENCH_BASELINE_ENV);
const currentEnv = envOf(process.env.BENCH_ENV);

async function gateway(script: string, upstream: string, extra: Record<string, string> = {}) {
  const child = launchClean(
    script,
    {
      ...benchGatewayEnv(upstream),
      ...extra,
    },
    /listening at (http:\/\/\S+\/graphql)/,
  );
  launched.push(child);
  const url = String((await child.match)[1]);
  return {
    url,
    pid: child.child.pid as number,
    headers: { 'x-api-key': benchApiKey },
    body,
    ...(process.env.BENCH_UNIQUE === '1' ? { bodies: uniqueBody } : {}),
    stop: () => child.child.kill('SIGKILL'),
  };
}

/** Apollo Server as `npm run bench` runs it: production mode, on the same fake of Circle. */
async function apolloServer(upstream: string) {
  const child = launchClean(
    'bench/peers/apollo.mjs',
    { UPSTREAM: upstream, BENCH_APP_TOKEN: benchAppToken, NODE_ENV: 'production' },
    /listening at (http:\/\/\S+)/,
  );
  launched.push(child);
  return {
    url: String((await child.match)[1]),
    pid: child.child.pid as number,
    headers: {},
    body,
    ...(process.env.BENCH_UNIQUE === '1' ? { bodies: uniqueBody } : {}),
    stop: () => child.child.kill('SIGKILL'),
  };
}

try {
  buildDist();
  const upstream = launchClean(
    'bench/peers/upstream.mjs',
    { BENCH_APP_TOKEN: benchAppToken },
    /listening at (\S+)/,
  );
  launched.push(upstream);
  const upstreamUrl = String((await upstream.match)[1]);
  await fetch(`${upstreamUrl}/__latency`, { method: 'POST', body: process.env.BENCH_LATENCY ?? '0' });
  const rows: PairedRound[] = [];
  const startBaseline = () =>
    baseline ? gateway(join(baseline, 'dist/main.js'), upstreamUrl, baselineEnv) : apolloServer(upstreamUrl);
  for (let round = 0; round < rounds; round++) {
    const baseFirst = round % 2 === 0;
    const first = baseFirst ? await startBaseline() : await gateway(measured, upstreamUrl, currentEnv);
    const second = baseFirst ? await gateway(measured, upstreamUrl, currentEnv) : await startBaseline();
    const [base, current] = baseFirst ? [first, second] : [second, first];
    try {
      rows.push(...(await pairedRounds(base, current, 1, duration, connections)));
    } finally {
      base.stop();
      current.stop();
    }
  }
  const against = baseline
    ? `${baseline} ${JSON.stringify(baselineEnv)}`
    : 'Apollo Server 5 + RESTDataSource';
  console.log(
    `Node ${process.version}; baseline: ${against}; upstream latency ${process.env.BENCH_LATENCY ?? '0'} ms; ${rounds} rounds of ${duration} s, each with a fresh pair loaded at once, ${connections} connections each`,
  );
  console.log(report(rows, ['baseline', 'this checkout']));
  // Which of the pair starts first moved the ratio by up to ±10 % here: say each order apart.
  const byOrder = (first: number, of: (row: PairedRound) => number) =>
    median(rows.filter((_, i) => i % 2 === first).map(of));
  const orders = (name: string, of: (row: PairedRound) => number) =>
    `${name}, by start order: baseline first ${byOrder(0, of).toFixed(3)}, this checkout first ${byOrder(1, of).toFixed(3)}; their mean ${((byOrder(0, of) + byOrder(1, of)) / 2).toFixed(3)}`;
  console.log(orders('CPU per operation', (row) => row.ratio));
  console.log(orders('throughput', (row) => row.b.rps / row.a.rps));
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
}
