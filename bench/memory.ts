/**
 * `npm run bench:memory`: does a stream of large one-off documents from callers without credentials
 * leave memory behind? Starts the gateway (`node dist/main.js`, sandbox mode with an API key
 * configured, so callers without one are anonymous), warms it up, then sends MEMORY_REQUESTS
 * (default 600) anonymous POSTs, each a different ~95 kB document (22 aliased revokes with a
 * distinct 4.2 kB token literal, over the 4096-character limit: valid GraphQL within the token limit, answered INVALID_INPUT without
 * an upstream call), and prints the server's resident memory before, after, and after a pause.
 * MEMORY_GATEWAY_DIR runs another checkout's dist/ (a baseline) the same way.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = process.env.MEMORY_GATEWAY_DIR ?? root;
const requests = Number(process.env.MEMORY_REQUESTS ?? 600);
const apiKey = 'memory-bench-api-key-0123456789';

const rssMiB = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

function document(): string {
  const aliases = Array.from(
    { length: 22 },
    (_, i) => `a${i}: revokeAccessToken(accessToken: "${randomBytes(2100).toString('hex')}") { __typename }`,
  );
  return `mutation { ${aliases.join(' ')} }`;
}

if (dir === root)
  spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], { cwd: root, stdio: 'inherit' });
const child: ChildProcess = spawn(process.execPath, ['dist/main.js'], {
  cwd: dir,
  env: {
    ...process.env,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    CIRCLE_APP_TOKEN: '',
    GATEWAY_API_KEYS: `bench:${apiKey}`,
    RATE_LIMIT_PER_CALLER: '1000000',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
    const match = /GraphiQL: {2}(http:\/\/\S+\/graphql)/.exec(out);
    if (match?.[1]) resolve(match[1]);
  });
  child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
});
const pid = child.pid as number;
const post = (body: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.text());

for (let i = 0; i < 20; i++) await post(JSON.stringify({ query: document() }));
await new Promise((resolve) => setTimeout(resolve, 1000));
const before = rssMiB(pid);
const started = performance.now();
for (let i = 0; i < requests; i += 4) {
  await Promise.all(Array.from({ length: 4 }, () => post(JSON.stringify({ query: document() }))));
}
const cpuMsPerRequest = (performance.now() - started) / requests;
const after = rssMiB(pid);
await new Promise((resolve) => setTimeout(resolve, 5000));
const settled = rssMiB(pid);
const sample = await post(JSON.stringify({ query: document() }));
child.kill('SIGKILL');

console.log(`gateway: ${dir === root ? 'this checkout' : dir}`);
console.log(`${requests} anonymous documents of ${document().length} characters, 4 at a time`);
console.log('| RSS before MiB | after MiB | 5 s later MiB | growth MiB | ms per request |');
console.log('|---|---|---|---|---|');
console.log(`| ${before} | ${after} | ${settled} | ${settled - before} | ${cpuMsPerRequest.toFixed(1)} |`);
console.log(`answer: ${sample.slice(0, 120)}…`);
