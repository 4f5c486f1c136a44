/**
 * `npm run soak -- --duration 600`: the gateway as an operator and an attacker would run it, in one
 * session: steady load, then mixed upstream faults (503s, resets, hangs and 429 bursts, about a
 * quarter of upstream calls), recovery, hostile input throughout, and SIGTERM under load at the end.
 * Prints a figures table and, last, one JSON line with the same figures (the test suite runs a short
 * soak and reads it). Duration in seconds: --duration N or SOAK_DURATION (default 60).
 *
 * The sandbox and the gateway (`node dist/main.js`, API-key auth, every limit on but raised out of
 * the way, UPSTREAM_TIMEOUT_MS=2000) run as processes of their own; the load runs here.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildAndStartSandbox, launch as launchScript } from './launch.js';

const flag = process.argv.indexOf('--duration');
const duration = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.SOAK_DURATION ?? 60));
if (!Number.isFinite(duration) || duration < 4)
  throw new Error('soak: --duration must be at least 4 seconds');
const connections = Number(process.env.SOAK_CONNECTIONS ?? 32);
const appToken = 'soak-sandbox-app-token-0123456789';
const apiKey = 'soak-api-key-0123456789abcdef';
const admin = { authorization: `Bearer ${appToken}` };
const members = ['ada', 'grace', 'alan', 'katherine', 'edsger'];
const children: ChildProcess[] = [];

function launch(script: string, env: Record<string, string>, ready: RegExp) {
  const launched = launchScript(script, { ...process.env, LOG_LEVEL: 'warn', ...env }, ready);
  children.push(launched.child);
  return launched;
}

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const { sandbox, sandboxUrl } = await buildAndStartSandbox(appToken, launch);
const gateway = launch(
  'dist/main.js',
  {
    CIRCLE_APP_TOKEN: appToken,
    CIRCLE_BASE_URL: sandboxUrl,
    PORT: '0',
    METRICS_PORT: '0',
    GATEWAY_API_KEYS: `soak:${apiKey}`,
    RATE_LIMIT_PER_CALLER: '1000000',
    RATE_LIMIT_PER_MEMBER: '1000000',
    CIRCLE_REQUEST_BUDGET: '0',
    UPSTREAM_TIMEOUT_MS: '2000',
    SHUTDOWN_DRAIN_MS: '5000',
    LOG_LEVEL: 'error',
  },
  /listening at (http:\/\/\S+\/graphql)/,
);
const url = String((await gateway.match)[1]);
const gatewayPid = gateway.child.pid as number;

type Phase = 'load' | 'faults' | 'recovery' | 'drain';
interface Sample {
  phase: Phase;
  sentAt: number;
  ms: number;
  status: number;
  outcome: string; // MemberToken, an error code, 'masked', 'network', or 'http <status>'
}
const samples: Sample[] = [];
let phase: Phase = 'load';
let stopping = false;
let signalledAt = Number.POSITIVE_INFINITY;

async function one(i: number): Promise<void> {
  const member = members[i % members.length];
  const body = JSON.stringify({
    query: `{ memberToken(by: EMAIL, value: "${member}@example.com") { __typename ... on MemberToken { accessToken } ... on Error { code } } }`,
  });
  const sentAt = Date.now();
  const at = phase;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body,
    });
    const json = (await response.json()) as {
      data?: { memberToken?: { __typename: string; code?: string } };
      errors?: Array<{ message: string }>;
    };
    const result = json.data?.memberToken;
    const outcome =
      response.status >= 500
        ? `http ${response.status}`
        : result
          ? (result.code ?? result.__typename)
          : json.errors?.[0]?.message === 'Unexpected error.'
            ? 'masked'
            : `http ${response.status}`;
    samples.push({ phase: at, sentAt, ms: Date.now() - sentAt, status: response.status, outcome });
  } catch {
    samples.push({ phase: at, sentAt, ms: Date.now() - sentAt, status: 0, outcome: 'network' });
  }
}

/** Hostile requests alongside the load: every answer must be a 4xx or a typed error, in JSON. */
const hostile: RequestInit[] = [
  { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<q/>' },
  {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/html', 'x-api-key': apiKey },
    body: '{"query":"{ memberToken(by: EMAIL, value: \\"ada@example.com\\") { __typename } }"}',
  },
  { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"subscription { x }"}' },
  {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"query":"{ _entities(representations: [{}]) { __typename } }"}',
  },
  { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
  {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'wrong-key-0123456789' },
    body: '{}',
  },
  { method: 'PUT', body: 'x' },
];
let hostileSent = 0;
let hostileBad = 0;
async function hostileLoop() {
  while (!stopping) {
    const init = hostile[hostileSent % hostile.length] as RequestInit;
    const path = hostileSent % 9 === 8 ? '?query=%7B__typename%7D&variables=%7Bx' : '';
    hostileSent += 1;
    try {
      const response = await fetch(`${url}${path}`, init);
      const text = await response.text();
      JSON.parse(text);
      if (response.status >= 500 || text.includes('Unexpected error.')) hostileBad += 1;
    } catch {
      // Refused once the drain has begun is expected; before it, a failure.
      if (Date.now() < signalledAt) hostileBad += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rss: Array<{ at: number; mib: number }> = [];
const rssTimer = setInterval(() => {
  try {
    rss.push({ at: Date.now(), mib: rssMiB(gatewayPid) });
  } catch {
    // the gateway has exited
  }
}, 1000);

let counter = 0;
const workers = Array.from({ length: connections }, async () => {
  while (!stopping && Date.now() < signalledAt + 200) await one(counter++);
});
const hostileWorker = hostileLoop();
const started = Date.now();
const setFaults = (faults: Record<string, number>) =>
  fetch(`${sandboxUrl}/__sandbox/faults`, { method: 'PUT', headers: admin, body: JSON.stringify(faults) });

// Phases: 40 % steady load, 30 % faults, 20 % recovery, then SIGTERM under load.
const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));
await sleep(duration * 0.4);
phase = 'faults';
const faultsStarted = Date.now();
// About a quarter of upstream calls fail: 503s, dropped connections and hangs (answered by the 2 s
// deadline), plus one 429 with a 1 s Retry-After every 5 s (the client backs off as Circle asks).
const mix = { errorRate: 0.15, resetRate: 0.07, hangRate: 0.03 };
await setFaults(mix);
const bursts = setInterval(
  () => void setFaults({ ...mix, rateLimitBurst: 1, rateLimitRetryAfterSeconds: 1 }),
  5000,
);
await sleep(duration * 0.3);
clearInterval(bursts);
await setFaults({});
phase = 'recovery';
const recoveryStarted = Date.now();
await sleep(duration * 0.2);
phase = 'drain';
await sleep(0.3);
signalledAt = Date.now();
gateway.child.kill('SIGTERM');
setTimeout(() => gateway.child.kill('SIGTERM'), 30);
const exitCode = await gateway.exited;
if (exitCode !== 0)
  console.error(`soak: the gateway exited with ${exitCode}:\n${gateway.output().slice(-3000)}`);
const exitedAfterMs = Date.now() - signalledAt;
stopping = true;
await Promise.all([...workers, hostileWorker]);
clearInterval(rssTimer);
sandbox.child.kill('SIGTERM');
await sandbox.exited;

// Figures.
const inPhase = (p: Phase) => samples.filter((s) => s.phase === p);
const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const typed = (s: Sample) =>
  s.status > 0 && s.status < 500 && s.outcome !== 'masked' && !s.outcome.startsWith('http');
const tokenShare = (list: Sample[]) =>
  list.filter((s) => s.outcome === 'MemberToken').length / Math.max(1, list.length);
const beforeSignal = samples.filter((s) => s.sentAt < signalledAt);
const drops = beforeSignal.filter((s) => s.status === 0).length;
// Recovery: from faults off to the first second in which every answer was a token.
const recoveryTokens = inPhase('recovery').sort((a, b) => a.sentAt - b.sentAt);
let recoveredAt = Number.NaN;
for (let t = recoveryStarted; t < signalledAt; t += 250) {
  const window = recoveryTokens.filter((s) => s.sentAt >= t && s.sentAt < t + 1000);
  if (window.length > 0 && window.every((s) => s.outcome === 'MemberToken')) {
    recoveredAt = t;
    break;
  }
}
const steady = rss.filter((r) => r.at < signalledAt);
// The slope leaves out the first quarter, where the heap grows into its working size.
const settled = steady.filter((r) => r.at >= started + duration * 250);
const slope = (() => {
  const n = settled.length;
  if (n < 2) return 0;
  const xs = settled.map((r) => (r.at - started) / 60_000);
  const ys = settled.map((r) => r.mib);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * ((ys[i] ?? 0) - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
})();
const all = beforeSignal;
const underFaults = inPhase('faults').filter((s) => s.sentAt >= faultsStarted);
const figures = {
  durationSeconds: duration,
  connections,
  requests: all.length,
  requestsPerSecond: Math.round(all.length / ((signalledAt - started) / 1000)),
  p50Ms: percentile(
    all.map((s) => s.ms),
    0.5,
  ),
  p99Ms: percentile(
    all.map((s) => s.ms),
    0.99,
  ),
  typedShare: Number((all.filter(typed).length / Math.max(1, all.length)).toFixed(4)),
  serverErrors: all.filter((s) => s.status >= 500).length,
  masked: all.filter((s) => s.outcome === 'masked').length,
  tokenShareSteady: Number(tokenShare(inPhase('load')).toFixed(4)),
  tokenShareUnderFaults: Number(tokenShare(underFaults).toFixed(4)),
  // Answers RATE_LIMITED under faults: Circle's own 429 told the client to wait, and it does.
  rateLimitedShareUnderFaults: Number(
    (
      underFaults.filter((s) => s.outcome === 'RATE_LIMITED').length / Math.max(1, underFaults.length)
    ).toFixed(4),
  ),
  // The breaker's part: of the answers not rate limited, the share that got a token.
  tokenShareUnderFaultsNotRateLimited: Number(
    tokenShare(underFaults.filter((s) => s.outcome !== 'RATE_LIMITED')).toFixed(4),
  ),
  recoverySeconds: Number(((recoveredAt - recoveryStarted) / 1000).toFixed(2)),
  hostileRequests: hostileSent,
  hostileBadAnswers: hostileBad,
  drainAnsweredAfterSignal: samples.filter(
    (s) => s.sentAt < signalledAt && s.sentAt + s.ms > signalledAt && s.status > 0,
  ).length,
  drops,
  exitCode,
  exitedAfterMs,
  rssStartMiB: Math.round(steady[0]?.mib ?? 0),
  rssEndMiB: Math.round(steady.at(-1)?.mib ?? 0),
  rssSlopeMiBPerMinute: Number(slope.toFixed(2)),
};
const outcomes = new Map<string, number>();
for (const s of all) outcomes.set(s.outcome, (outcomes.get(s.outcome) ?? 0) + 1);

console.log(
  `soak: ${duration} s, ${connections} connections; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
);
console.log('| figure | value |');
console.log('|---|---|');
for (const [name, value] of Object.entries(figures)) console.log(`| ${name} | ${value} |`);
console.log(JSON.stringify(figures));
for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
