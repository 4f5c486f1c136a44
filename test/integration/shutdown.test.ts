import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../bench/launch.js';

/**
 * SIGTERM under load, as an orchestrator sends it: to the whole process group, and twice. Every
 * request accepted before the signal is answered, and the server exits 0 within SHUTDOWN_DRAIN_MS,
 * for the production launcher (`node dist/main.js`, what the image runs) and for `npm start`.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];

beforeAll(() => {
  buildDist();
}, 60_000);
afterAll(() => {
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const query = JSON.stringify({
  query: '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken } } }',
});

async function underLoad(command: string, args: string[]) {
  const child = spawn(command, args, {
    cwd: root,
    detached: true, // a process group of its own, as under an orchestrator
    env: {
      ...process.env,
      PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_MS: '5000',
      // The drain alone: the delay before it is tested behind a balancer (rolling-restart.test.ts).
      SHUTDOWN_DELAY_MS: '0',
      CIRCLE_APP_TOKEN: '',
    },
  });
  children.push(child);
  let stdout = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  // Output is complete once every process holding the pipe (a wrapper's child too) has closed it.
  const outputClosed = new Promise<number>((resolve) =>
    child.stdout?.once('close', () => resolve(Date.now())),
  );
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 600; i++) {
      const match = pattern.exec(stdout);
      if (match) return match;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting for ${pattern}: ${stdout}`);
  };
  const [, url] = await waitFor(/GraphiQL: {2}(http:\/\/\S+\/graphql)/);
  const [, sandboxUrl] = await waitFor(/sandbox listening at (http:\/\/\S+)/);
  const admin = { authorization: 'Bearer sandbox-app-token' };
  await fetch(`${sandboxUrl}/__sandbox/faults`, {
    method: 'PUT',
    headers: admin,
    body: JSON.stringify({ latencyMs: 600 }),
  });

  const requests = Array.from({ length: 16 }, () =>
    fetch(String(url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: query }).then(
      async (response) => ({ status: response.status, body: await response.text() }),
      (error: Error) => ({ status: 0, body: error.message }),
    ),
  );
  // Signal once every request is in flight upstream, so each was accepted before the signal.
  for (let i = 0; i < 200; i++) {
    const stats = (await (await fetch(`${sandboxUrl}/__sandbox/stats`, { headers: admin })).json()) as {
      inFlight: number;
    };
    if (stats.inFlight >= 16) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const signalledAt = Date.now();
  process.kill(-(child.pid as number), 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 30));
  process.kill(-(child.pid as number), 'SIGTERM');
  const answers = await Promise.all(requests);
  const exit = await exited;
  const allClosedAt = await outputClosed;
  return { answers, exit, signalledAt, allClosedAt, stdout };
}

describe('shutdown under load, SIGTERM twice to the process group', () => {
  it('node dist/main.js answers every accepted request and exits 0 within the drain', async () => {
    const { answers, exit, signalledAt, stdout } = await underLoad(process.execPath, ['dist/main.js']);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    for (const answer of answers) expect(answer.body).toContain('"accessToken":"eyJ');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(5000);
    expect(stdout).toContain('"msg":"already draining"');
    expect(stdout).toContain('"msg":"stopped"');
  });

  it('npm start answers every accepted request and the server stops cleanly', async () => {
    const { answers, exit, stdout, signalledAt, allClosedAt } = await underLoad('npm', ['start', '--silent']);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(stdout).toContain('"msg":"stopped"');
    expect(allClosedAt - signalledAt).toBeLessThan(5000);
    // The script execs node, so npm relays the signal to the server itself and exits after it.
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at).toBeGreaterThanOrEqual(allClosedAt - 50);
  });
});

describe('shutdown with nobody reading standard output', () => {
  it('exits 0 within the drain when the reader of its log has gone (EPIPE on the last flush)', async () => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: root,
      detached: true,
      env: {
        ...process.env,
        PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_MS: '2000',
        SHUTDOWN_DELAY_MS: '0',
        CIRCLE_APP_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(child);
    let stdout = '';
    const started = new Promise<string>((resolve) =>
      child.stdout?.on('data', (chunk) => {
        stdout += chunk;
        const match = /GraphiQL: {2}(http:\/\/\S+\/graphql)/.exec(stdout);
        if (match) resolve(String(match[1]));
      }),
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const url = await started;
    // A request, so that log lines are waiting in the batch, then the reader goes (a log
    // collector that died): the next write to standard output fails with EPIPE.
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
    child.stdout?.destroy();
    const signalledAt = Date.now();
    process.kill(-(child.pid as number), 'SIGTERM');
    const exit = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5000);
  }, 20_000);
});
