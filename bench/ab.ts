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

const baseline = process.argv[2] ? resolve(process.argv[2]) : undefined;
if (!baseline || !existsSync(join(baseline, 'dist/main.js'))) {
  process.stderr.write('usage: npm run bench:ab -- <checkout with a built dist/main.js>\n');
  process.exit(2);
}
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
  for (let round = 0; round < rounds; round++) {
    const baseFirst = round % 2 === 0;
    const first = baseFirst
      ? await gateway(join(baseline, 'dist/main.js'), upstreamUrl, baselineEnv)
      : await gateway('dist/main.js', upstreamUrl, currentEnv);
    const second = baseFirst
      ? await gateway('dist/main.js', upstreamUrl, currentEnv)
      : await gateway(join(baseline, 'dist/main.js'), upstreamUrl, baselineEnv);
    const [base, current] = baseFirst ? [first, second] : [second, first];
    try {
      rows.push(...(await pairedRounds(base, current, 1, duration)));
    } finally {
      base.stop();
      current.stop();
    }
  }
  console.log(
    `baseline: ${baseline} ${JSON.stringify(baselineEnv)}; ${rounds} rounds of ${duration} s, each with a fresh pair loaded at once, 16 connections each`,
  );
  console.log(report(rows, ['baseline', 'this checkout']));
  // Which of the pair starts first moved the ratio by up to ±10 % here: say each order apart.
  const byOrder = (first: number) => median(rows.filter((_, i) => i % 2 === first).map((row) => row.ratio));
  console.log(
    `by start order: baseline first ${byOrder(0).toFixed(3)}, this checkout first ${byOrder(1).toFixed(3)}; their mean ${((byOrder(0) + byOrder(1)) / 2).toFixed(3)}`,
  );
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
}
