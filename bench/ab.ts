/**
 * `npm run bench:ab -- <other checkout>`: this checkout's gateway against another's (a baseline: a
 * `git worktree` of an older commit, built with `npm ci && npm run build` there), both `node
 * dist/main.js` with the same settings as `npm run bench` (API keys, every limit on, metrics on),
 * on one fake of Circle, loaded at the same time in paired rounds (bench/paired.ts): the way to see
 * whether a change pays for itself on a machine whose rounds move by ±25 %. BENCH_ROUNDS (default
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
  memberTokenDocument,
} from './launch.js';
import { pairedRounds, report } from './paired.js';

const baseline = process.argv[2] ? resolve(process.argv[2]) : undefined;
if (!baseline || !existsSync(join(baseline, 'dist/main.js'))) {
  process.stderr.write('usage: npm run bench:ab -- <checkout with a built dist/main.js>\n');
  process.exit(2);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const body = JSON.stringify({ query: memberTokenDocument });
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
  const base = await gateway(join(baseline, 'dist/main.js'), upstreamUrl, baselineEnv);
  const current = await gateway('dist/main.js', upstreamUrl, currentEnv);
  const rows = await pairedRounds(base, current, rounds, duration);
  console.log(
    `baseline: ${baseline} ${JSON.stringify(baselineEnv)}; ${rounds} paired rounds of ${duration} s, 16 connections each`,
  );
  console.log(report(rows, ['baseline', 'this checkout']));
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
}
