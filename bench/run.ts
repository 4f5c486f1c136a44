/**
 * `npm run bench`: gateway throughput and latency against the sandbox, beside two baselines measured
 * in the same run on the same sandbox:
 *   - direct HTTP: autocannon straight at the sandbox's auth_token endpoint (what Circle alone costs);
 *   - direct client: our undici client called in a loop at the same concurrency (no GraphQL, no HTTP
 *     server in front).
 * The sandbox and the gateway run as separate processes so the gateway's CPU time can be read from
 * /proc. Settings: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 32).
 * With `--redis`: the cost of sharing state through Redis, three replicas (bench/replicas.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createClient } from '../src/client/sdk.js';
import { cpuMs } from './launch.js';

// `npm run bench -- --redis`: three replicas, in-process state against Redis (bench/replicas.ts).
if (process.argv.includes('--redis')) {
  await import('./replicas.js');
  process.exit(process.exitCode ?? 0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const appToken = 'bench-sandbox-app-token';
const apiKey = 'bench-api-key-0123456789abcdef';
const children: ChildProcess[] = [];

function launch(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = out.match(ready);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

interface Figures {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function cannon(
  name: string,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<Figures> {
  const result = await autocannon({ url, method: 'POST', headers, body, connections, duration });
  return {
    name,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function clientLoop(baseURL: string): Promise<Figures> {
  const client = createClient({ appToken, baseURL, connections });
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + duration * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const started = performance.now();
        try {
          await client.api.issueMemberToken({ email: 'ada@example.com' });
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  await client.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    name: 'direct client (undici)',
    requests: latencies.length,
    rps: latencies.length / duration,
    p50: at(0.5),
    p99: at(0.99),
    errors,
  };
}

try {
  const sandbox = await launch(
    'src/sandbox/main.ts',
    { SANDBOX_APP_TOKEN: appToken, SANDBOX_PORT: '0' },
    /listening at (http:\/\/\S+)/,
  );
  const sandboxUrl = String(sandbox.match[1]);
  const gateway = await launch(
    'src/main.ts',
    {
      CIRCLE_APP_TOKEN: appToken,
      CIRCLE_BASE_URL: sandboxUrl,
      PORT: '0',
      METRICS_PORT: '0',
      UPSTREAM_CONNECTIONS: String(connections),
      GATEWAY_API_KEYS: `bench:${apiKey}`,
      // The benchmark measures the gateway, not its rate limits or Circle's budget.
      RATE_LIMIT_PER_CALLER: '1000000',
      RATE_LIMIT_PER_MEMBER: '1000000',
      CIRCLE_REQUEST_BUDGET: '0',
    },
    /listening at (http:\/\/\S+\/graphql)/,
  );
  const gatewayUrl = String(gateway.match[1]);

  const query = JSON.stringify({
    query:
      '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename ... on MemberToken { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt communityMemberId communityId } ... on Error { code message } } }',
  });
  const gqlHeaders = { 'content-type': 'application/json', 'x-api-key': apiKey };
  const sample = (await (
    await fetch(gatewayUrl, { method: 'POST', headers: gqlHeaders, body: query })
  ).json()) as {
    data?: { memberToken?: { __typename?: string } };
  };
  if (sample.data?.memberToken?.__typename !== 'MemberToken')
    throw new Error(`unexpected answer: ${JSON.stringify(sample)}`);

  const directHeaders = { authorization: `Bearer ${appToken}`, 'content-type': 'application/json' };
  const directBody = JSON.stringify({ email: 'ada@example.com' });
  const authUrl = `${sandboxUrl}/api/v1/headless/auth_token`;

  process.stdout.write(`warming up; then ${duration} s per run at ${connections} connections\n`);
  await autocannon({
    url: gatewayUrl,
    method: 'POST',
    headers: gqlHeaders,
    body: query,
    connections,
    duration: 2,
  });

  const direct = await cannon('direct HTTP (autocannon → sandbox)', authUrl, directHeaders, directBody);
  const client = await clientLoop(sandboxUrl);
  const pid = gateway.child.pid as number;
  const cpuBefore = cpuMs(pid);
  const viaGateway = await cannon('gateway (autocannon → gateway → sandbox)', gatewayUrl, gqlHeaders, query);
  const gatewayCpu = cpuMs(pid) - cpuBefore;

  const rows = [direct, client, viaGateway];
  process.stdout.write(
    `\n${'run'.padEnd(44)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(44)} ${r.rps.toFixed(0).padStart(8)} ${String(r.p50).padStart(7)} ${String(r.p99).padStart(7)} ${String(r.errors).padStart(7)}\n`,
    );
  }
  process.stdout.write(`\nratio gateway / direct HTTP:   ${(viaGateway.rps / direct.rps).toFixed(2)}\n`);
  process.stdout.write(`ratio gateway / direct client: ${(viaGateway.rps / client.rps).toFixed(2)}\n`);
  process.stdout.write(
    `gateway CPU: ${((gatewayCpu / viaGateway.requests) * 1000).toFixed(0)} ms per 1000 operations\n`,
  );
  if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
}
