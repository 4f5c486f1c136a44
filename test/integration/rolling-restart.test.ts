import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, type Launched, launch } from '../../bench/launch.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { freePort } from '../../support/ports.js';

/**
 * Rolling restarts behind a load balancer that neither retries nor redispatches (Debian's haproxy,
 * health-checking `/ready` every 500 ms, one failure to take a server out): three replicas are
 * restarted one after the other under steady load, and no request is lost. On SIGTERM `/ready`
 * answers 503 at once while the replica keeps serving for SHUTDOWN_DELAY_MS, so haproxy takes it
 * out before its listener closes.
 */
const haproxyMissing: string | undefined = (() => {
  if (spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).status === 0) return undefined;
  const message =
    'haproxy is not installed: install it (apt-get install haproxy) to run the rolling-restart test';
  if (process.env.CI === 'true') throw new Error(message);
  process.stderr.write(`\n*** SKIPPING the rolling-restart test: ${message}\n\n`);
  return message;
})();

const apiKey = 'rolling-restart-api-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'cag-rolling-'));
const children: ChildProcess[] = [];
let sandbox: Sandbox | undefined;
let haproxy: ChildProcess | undefined;
const replicas: { port: number; launched: Launched }[] = [];
let front = 0;

function startReplica(port: number): Launched {
  const launched = launch(
    'dist/main.js',
    {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      CIRCLE_APP_TOKEN: sandbox?.appToken,
      CIRCLE_BASE_URL: sandbox?.url,
      GATEWAY_API_KEYS: `tests:${apiKey}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: 'off',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DELAY_MS: '1500',
      SHUTDOWN_DRAIN_MS: '3000',
      // Limits out of the way: this test counts lost requests, not refused ones.
      RATE_LIMIT_PER_CALLER: '1000000',
      RATE_LIMIT_PER_MEMBER: '1000000',
      CIRCLE_REQUEST_BUDGET: '1000000',
    },
    /listening at (http:\S+\/graphql)\n/,
  );
  children.push(launched.child);
  return launched;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  if (haproxyMissing) return;
  buildDist();
  sandbox = await startSandbox();
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const launched = startReplica(port);
    await launched.match;
    replicas.push({ port, launched });
  }
  front = await freePort();
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 512',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 10s',
      '  timeout server 10s',
      '  retries 0',
      'frontend gateways',
      `  bind 127.0.0.1:${front}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      '  option httpchk GET /ready',
      '  default-server inter 500 fall 1 rise 2',
      ...replicas.map((r, i) => `  server g${i} 127.0.0.1:${r.port} check`),
      '',
    ].join('\n'),
  );
  haproxy = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(haproxy);
  await sleep(1500); // two passing checks each
}, 90_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(haproxyMissing !== undefined)('rolling restarts behind haproxy without retries', () => {
  it('lose no request while three replicas are restarted one after the other', async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const body = JSON.stringify({
      query: '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }',
    });
    const worker = async () => {
      // Bounded: at most 20 000 requests a worker, and it ends when the restarts are over.
      for (let sent = 0; !stop && sent < 20_000; sent += 1) {
        try {
          const response = await fetch(`http://127.0.0.1:${front}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
            body,
          });
          const text = await response.text();
          if (response.status === 200 && text.includes('"MemberToken"')) ok += 1;
          else failures.push(`${response.status} ${text.slice(0, 80)}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await sleep(500);
    for (const replica of replicas) {
      const before = ok;
      replica.launched.child.kill('SIGTERM');
      expect(await replica.launched.exited).toBe(0);
      replica.launched = startReplica(replica.port);
      await replica.launched.match;
      await sleep(1500); // haproxy's rise: two passing checks
      expect(ok).toBeGreaterThan(before);
    }
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
  }, 90_000);
});
