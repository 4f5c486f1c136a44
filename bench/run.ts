/**
 * `npm run bench`: the gateway beside its peers, each in its own process, all calling one fake of
 * Circle (bench/peers/upstream.mjs) for the same `memberToken` operation:
 *   - direct undici proxy: no GraphQL, the floor (bench/peers/proxy.mjs);
 *   - bare yoga + undici (bench/peers/yoga.mjs);
 *   - Apollo Server 5 + RESTDataSource (bench/peers/apollo.mjs);
 *   - this gateway, `node dist/main.js` as in production: API-key authentication, caller and member
 *     limits and Circle's budget on (raised out of the way), the federation subgraph schema, error
 *     masking, no-store, request ids and metrics, all on.
 * At each upstream latency (BENCH_LATENCIES, ms, default `0,5,50`), BENCH_ROUNDS interleaved rounds
 * (default 3) of BENCH_DURATION seconds (default 5) per server at BENCH_CONNECTIONS (default 32);
 * medians per server, CPU per operation read from /proc per process, RSS sampled under load. Then
 * one case of never-seen documents (a fresh alias per request) against the same servers.
 * Every server runs on the Node that runs the bench (`process.execPath`), whose version it prints.
 * With `--redis`: the cost of sharing state through Redis, three replicas (bench/replicas.ts).
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import {
  benchApiKey,
  benchAppToken,
  benchGatewayEnv,
  buildDist,
  cpuMs,
  forNextMember,
  type Launched,
  launchClean,
  median,
  memberTokenBody,
  memberTokenDocument,
} from './launch.js';

if (process.argv.includes('--redis')) {
  await import('./replicas.js');
  process.exit(process.exitCode ?? 0);
}

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const latencies = (process.env.BENCH_LATENCIES ?? '0,5,50').split(',').map(Number);
const only = process.env.BENCH_SERVERS?.split(',');
const launched: Launched[] = [];

function start(script: string, env: Record<string, string>): Promise<{ launched: Launched; url: string }> {
  const child = launchClean(
    script,
    { BENCH_APP_TOKEN: benchAppToken, ...env },
    /listening at (http:\/\/\S+)/,
  );
  launched.push(child);
  return child.match.then((match) => ({ launched: child, url: String(match[1]) }));
}

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const document = memberTokenDocument;
const body = memberTokenBody(document);
let unique = 0;
/** The same operation under a name no request has used: a document no cache has seen. */
const uniqueBody = () =>
  memberTokenBody(document.replace('{ memberToken', `{ t${(unique++).toString(36)}: memberToken`));

interface Server {
  name: string;
  url: string;
  pid: number;
  headers: Record<string, string>;
}

interface Round {
  rps: number;
  cpuPer1000: number;
  p50: number;
  p99: number;
  rss: number;
  errors: number;
}

async function load(server: Server, seconds: number, fresh = false): Promise<Round> {
  const cpuBefore = cpuMs(server.pid);
  let rss = rssMiB(server.pid);
  const sampler = setInterval(() => {
    rss = Math.max(rss, rssMiB(server.pid));
  }, 250);
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.headers },
    body,
    connections,
    duration: seconds,
    // Every server gets the same requests, each for the next of 64 members (launch.ts).
    requests: [
      {
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          body: forNextMember(fresh ? uniqueBody() : body),
        }),
      },
    ],
  });
  clearInterval(sampler);
  const cpu = cpuMs(server.pid) - cpuBefore;
  return {
    rps: result.requests.total / seconds,
    cpuPer1000: (cpu / Math.max(1, result.requests.total)) * 1000,
    p50: result.latency.p50,
    p99: result.latency.p99,
    rss: Math.max(rss, rssMiB(server.pid)),
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** One request, checked: every server must answer the operation with a token. */
async function check(server: Server): Promise<void> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.headers },
    body,
  });
  const text = await response.text();
  if (server.name.startsWith('direct')) {
    if (!text.includes('"access_token"'))
      throw new Error(`${server.name} answered ${response.status}: ${text}`);
  } else if (!text.includes('"__typename":"MemberToken"')) {
    throw new Error(`${server.name} answered ${response.status}: ${text}`);
  }
}

const row = (cells: (string | number)[], widths: number[]) =>
  `${cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i] ?? 0) : String(cell).padStart(widths[i] ?? 0))).join(' ')}\n`;

try {
  buildDist();
  const upstream = await start('bench/peers/upstream.mjs', {});
  const setLatency = (ms: number) =>
    fetch(`${upstream.url}/__latency`, { method: 'POST', body: String(ms) }).then((r) => r.text());
  // Production mode for every server (the gateway's image sets it; Apollo Server and graphql-js
  // drop development-only checks under it).
  const peerEnv = { UPSTREAM: upstream.url, UPSTREAM_CONNECTIONS: '64', NODE_ENV: 'production' };
  const all: {
    name: string;
    script: string;
    env: Record<string, string>;
    headers: Record<string, string>;
  }[] = [
    { name: 'direct undici proxy (no GraphQL)', script: 'bench/peers/proxy.mjs', env: peerEnv, headers: {} },
    { name: 'bare yoga + undici', script: 'bench/peers/yoga.mjs', env: peerEnv, headers: {} },
    { name: 'Apollo Server 5 + RESTDataSource', script: 'bench/peers/apollo.mjs', env: peerEnv, headers: {} },
    {
      name: 'this gateway',
      script: 'dist/main.js',
      env: benchGatewayEnv(upstream.url),
      headers: { 'x-api-key': benchApiKey },
    },
  ];
  const servers: Server[] = [];
  for (const peer of all.filter((p) => !only || only.some((o) => p.name.includes(o)))) {
    const { launched: child, url } = await start(peer.script, peer.env);
    servers.push({ name: peer.name, url, pid: child.child.pid as number, headers: peer.headers });
  }
  for (const server of servers) await check(server);

  process.stdout.write(
    `Node ${process.version} runs every server; ${servers.length} servers; at each upstream latency ${rounds} interleaved rounds of ${duration} s per server, ${connections} connections; medians\n`,
  );
  const widths = [36, 8, 9, 7, 7, 8, 7];
  const summary: string[] = [];
  for (const latency of latencies) {
    await setLatency(latency);
    for (const server of servers) await load(server, 2);
    const results = new Map<string, Round[]>(servers.map((s) => [s.name, []]));
    for (let round = 0; round < rounds; round += 1) {
      // Rotate the order so that no server always runs first or last in a round.
      for (let i = 0; i < servers.length; i += 1) {
        const server = servers[(i + round) % servers.length] as Server;
        results.get(server.name)?.push(await load(server, duration));
      }
    }
    for (const server of servers) await check(server);
    process.stdout.write(`\nupstream latency ${latency} ms\n`);
    process.stdout.write(
      row(['server', 'req/s', 'CPU/1000', 'p50 ms', 'p99 ms', 'RSS MiB', 'errors'], widths),
    );
    const m = new Map<string, Omit<Round, 'errors'>>();
    for (const server of servers) {
      const r = results.get(server.name) ?? [];
      const med = {
        rps: median(r.map((x) => x.rps)),
        cpuPer1000: median(r.map((x) => x.cpuPer1000)),
        p50: median(r.map((x) => x.p50)),
        p99: median(r.map((x) => x.p99)),
        rss: Math.max(...r.map((x) => x.rss)),
      };
      m.set(server.name, med);
      const errors = r.reduce((sum, x) => sum + x.errors, 0);
      if (errors > 0) process.exitCode = 1;
      process.stdout.write(
        row(
          [
            server.name,
            med.rps.toFixed(0),
            med.cpuPer1000.toFixed(0),
            med.p50,
            med.p99,
            med.rss.toFixed(0),
            errors,
          ],
          widths,
        ),
      );
      process.stdout.write(
        `${''.padEnd(widths[0] ?? 0)}   rounds: ${r.map((x) => `${x.rps.toFixed(0)} req/s ${x.cpuPer1000.toFixed(0)} ms`).join(', ')}\n`,
      );
    }
    const gateway = m.get('this gateway');
    const apollo = m.get('Apollo Server 5 + RESTDataSource');
    if (gateway && apollo) {
      const line =
        `${latency} ms: gateway / Apollo: throughput ${(gateway.rps / apollo.rps).toFixed(2)}, ` +
        `CPU per operation ${(gateway.cpuPer1000 / apollo.cpuPer1000).toFixed(2)}, ` +
        `RSS ${(gateway.rss / apollo.rss).toFixed(2)}, p99 ${gateway.p99 - apollo.p99 >= 0 ? '+' : ''}${gateway.p99 - apollo.p99} ms, ` +
        `gateway p50 − upstream latency ${gateway.p50 - latency} ms`;
      summary.push(line);
      process.stdout.write(`${line}\n`);
    }
  }

  // Never-seen documents: each request a document no cache holds (a fresh alias), at 0 ms.
  await setLatency(0);
  process.stdout.write('\nnever-seen documents (a fresh alias per request), upstream latency 0 ms\n');
  process.stdout.write(row(['server', 'req/s', 'CPU/1000', 'p50 ms', 'p99 ms', 'RSS MiB', 'errors'], widths));
  // The same gateway with graphql-jit off (GRAPHQL_JIT=false): what these documents cost on plain
  // graphql-js, since a document is compiled only on its second run.
  const unique: Server[] = servers.filter((s) => !s.name.startsWith('direct'));
  const gatewayServer = servers.find((s) => s.name === 'this gateway');
  if (gatewayServer) {
    const plain = await start('dist/main.js', { ...benchGatewayEnv(upstream.url), GRAPHQL_JIT: 'false' });
    const server = {
      name: 'this gateway, GRAPHQL_JIT=false',
      url: plain.url,
      pid: plain.launched.child.pid as number,
      headers: gatewayServer.headers,
    };
    await check(server);
    await load(server, 2);
    unique.push(server);
  }
  const uniqueCpu = new Map<string, number>();
  for (const server of unique) {
    const r = await load(server, duration, true);
    uniqueCpu.set(server.name, r.cpuPer1000);
    process.stdout.write(
      row(
        [server.name, r.rps.toFixed(0), r.cpuPer1000.toFixed(0), r.p50, r.p99, r.rss.toFixed(0), r.errors],
        widths,
      ),
    );
    if (r.errors > 0) process.exitCode = 1;
  }
  const jitOn = uniqueCpu.get('this gateway');
  const jitOff = uniqueCpu.get('this gateway, GRAPHQL_JIT=false');
  if (jitOn && jitOff) {
    summary.push(
      `never-seen documents: CPU per operation with graphql-jit / with plain graphql-js ${(jitOn / jitOff).toFixed(2)}`,
    );
  }
  process.stdout.write(`\n${summary.join('\n')}\n`);
} finally {
  for (const child of launched) child.child.kill('SIGTERM');
}
