import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createClient } from '@redis/client';
import { freePort } from './ports.js';

/**
 * A real `redis-server` per test file or bench run (support/ is shared by test/ and bench/), on a
 * free loopback port, persistence off, stopped by PID.
 * `.ci/run` installs Debian's package when it is missing; outside CI a missing server skips the
 * tests that need it, loudly (`redisMissing`), and under `CI=true` it never does.
 */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Kills it (SIGKILL: an outage, not a shutdown); its data is lost. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open and nothing answers; `resume` thaws it. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Every key with its value (strings as stored; other types described), for the no-secret check. */
  dump(): Promise<{ key: string; value: string; ttlMs: number }[]>;
  stop(): Promise<void>;
}

export const redisMissing: string | undefined = (() => {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return undefined;
  const message =
    'redis-server is not installed: install it (apt-get install redis-server) to run the Redis tests';
  if (process.env.CI === 'true') throw new Error(message);
  process.stderr.write(`\n*** SKIPPING the Redis tests: ${message}\n\n`);
  return message;
})();

function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const deadline = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    const ready = async () => {
      // Ready once it answers: poll with a client (the log line depends on the log level).
      for (let i = 0; i < 200; i++) {
        const probe = createClient({
          url: `redis://127.0.0.1:${port}`,
          socket: { reconnectStrategy: false },
        });
        probe.on('error', () => undefined);
        const ok = await probe
          .connect()
          .then(() => probe.ping())
          .then(() => true)
          .catch(() => false);
        probe.destroy();
        if (ok) return true;
        await new Promise((r) => setTimeout(r, 25));
      }
      return false;
    };
    child.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      out += chunk;
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    void ready().then((ok) => {
      clearTimeout(deadline);
      if (ok) resolve(child);
      else reject(new Error(`redis-server did not answer: ${out}`));
    });
  });
}

async function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port);
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    get pid() {
      return child.pid;
    },
    kill: () => killed(child, 'SIGKILL'),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async restart() {
      await killed(child, 'SIGKILL');
      child = await launch(port);
    },
    async dump() {
      const reader = createClient({ url });
      await reader.connect();
      try {
        const out: { key: string; value: string; ttlMs: number }[] = [];
        for await (const keys of reader.scanIterator({ COUNT: 1000 })) {
          for (const key of keys) {
            const type = await reader.type(key);
            const value =
              type === 'string'
                ? String(await reader.get(key))
                : type === 'zset'
                  ? JSON.stringify(await reader.zRange(key, 0, -1))
                  : `(${type})`;
            out.push({ key, value, ttlMs: await reader.pTTL(key) });
          }
        }
        return out;
      } finally {
        reader.destroy();
      }
    },
    stop: () => killed(child, 'SIGTERM'),
  };
}
