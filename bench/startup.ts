/**
 * `npm run bench:startup`: how long each way of starting the gateway takes from process start to
 * `/health` answering 200, and the memory of every process it leaves running, idle, measured in
 * one session. Ways: `node dist/main.js` (production, what the image runs), `npm start` (the
 * launcher: builds dist/ when stale, then the same code), and `tsx src/main.ts` (as `npm start`
 * ran before the compiled build, for comparison). Settings: STARTUP_RUNS (default 5).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './launch.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.STARTUP_RUNS ?? 5);
let port = 4600;

/** Resident memory of a process and its descendants, in MiB, by pid (Linux /proc). */
function rssTree(pid: number): Array<{ command: string; mib: number }> {
  const out: Array<{ command: string; mib: number }> = [];
  const walk = (p: number) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const command = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' ').trim();
      out.push({ command, mib: Math.round(kb / 1024) });
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const child of children ? children.split(' ') : []) walk(Number(child));
    } catch {
      // the process ended between two reads
    }
  };
  walk(pid);
  return out;
}

async function once(
  command: string[],
): Promise<{ ms: number; rss: Array<{ command: string; mib: number }> }> {
  port += 1;
  const started = performance.now();
  const child: ChildProcess = spawn(command[0] as string, command.slice(1), {
    cwd: root,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', CIRCLE_APP_TOKEN: '' },
    stdio: 'ignore',
    detached: true,
  });
  let ms = Number.NaN;
  for (let i = 0; i < 2000; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) {
        ms = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // idle
  const rss = rssTree(child.pid as number);
  process.kill(-(child.pid as number), 'SIGKILL');
  return { ms, rss };
}

spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], { cwd: root, stdio: 'inherit' });
const ways: Array<[string, string[]]> = [
  ['node dist/main.js', [process.execPath, 'dist/main.js']],
  ['npm start', ['npm', 'start', '--silent']],
  ['tsx src/main.ts', ['node_modules/.bin/tsx', 'src/main.ts']],
];
console.log(`start-up to /health 200, median of ${runs} runs; resident memory idle, per process`);
console.log('| way | start-up ms | processes (RSS MiB) | total MiB |');
console.log('|---|---|---|---|');
for (const [name, command] of ways) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once(command));
  const last = results.at(-1)?.rss ?? [];
  const processes = last.map((p) => `${p.command.replace(root, '')} (${p.mib})`).join(', ');
  const total = last.reduce((sum, p) => sum + p.mib, 0);
  console.log(`| ${name} | ${Math.round(median(results.map((r) => r.ms)))} | ${processes} | ${total} |`);
}
