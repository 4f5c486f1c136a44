import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;

/**
 * A real process with the crash handlers installed and a node:http server whose handler's work
 * throws outside any try (or rejects unhandled) while two requests are in flight: it must log one
 * fatal line with the ids of the requests in flight and exit 1, rather than carry on half alive.
 * The logger writes as main.ts's does, through the buffered standard output, whose batch pino
 * writes out at once after a fatal line (its `flushSync`).
 */
function crash(how: 'throw' | 'reject') {
  const script = `
    import { createServer } from 'node:http';
    import { exitOnCrash } from './src/crash.ts';
    import { createLogger, stdoutDestination } from './src/logger.ts';
    import { assignRequestIds } from './src/request/id.ts';
    exitOnCrash(createLogger('info', stdoutDestination()));
    let seen = 0;
    const server = createServer(assignRequestIds((req, res) => {
      seen += 1;
      if (seen < 2) return; // the first waits, in flight
      setTimeout(() => {
        ${how === 'throw' ? "throw new Error('boom');" : "Promise.reject(new Error('boom'));"}
      }, 10);
    }));
    server.listen(0, '127.0.0.1', () => {
      const url = 'http://127.0.0.1:' + server.address().port + '/';
      fetch(url, { headers: { 'x-request-id': 'req-41' } }).catch(() => {});
      setTimeout(() => fetch(url, { headers: { 'x-request-id': 'req-42' } }).catch(() => {}), 50);
    });
    setTimeout(() => console.log('still alive'), 1000);
  `;
  const child = spawn(tsx, ['--input-type=module', '-e', script], { cwd: root });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  return new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout })),
  );
}

describe('an error nobody caught', () => {
  for (const [how, what] of [
    ['throw', 'uncaught exception'],
    ['reject', 'unhandled rejection'],
  ] as const) {
    it(`(${what}) is logged at fatal with the ids of the requests in flight, and the process exits 1`, async () => {
      const { code, stdout } = await crash(how);
      expect(code).toBe(1);
      expect(stdout).not.toContain('still alive');
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 60,
        // The gateway's own ids, and the callers' apart.
        requestIds: [expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)],
        callerRequestIds: ['req-41', 'req-42'],
        msg: `${what}: exiting`,
        err: { name: 'Error', message: 'boom' },
      });
    });
  }

  it('leaves no logged line behind: lines still batched when the process exits are written out', async () => {
    // A batch writes at 16 KiB or once a second; these three lines are far from either when exit comes.
    const script = `
      import { createLogger, stdoutDestination } from './src/logger.ts';
      const logger = createLogger('info', stdoutDestination());
      for (const n of [1, 2, 3]) logger.info({ n }, 'before exit');
      process.exit(0);
    `;
    const child = spawn(tsx, ['--input-type=module', '-e', script], { cwd: root });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line.n, line.msg])).toEqual([
      [1, 'before exit'],
      [2, 'before exit'],
      [3, 'before exit'],
    ]);
  });

  it('writes every line whole and in order, whatever its characters and length, across batches', async () => {
    // Batches are 16 KiB of encoded bytes: multi-byte text, a line longer than a batch, and enough
    // lines to fill several batches, then exit with the last batch still gathered.
    const script = `
      import { createLogger, stdoutDestination } from './src/logger.ts';
      const logger = createLogger('info', stdoutDestination());
      for (let n = 0; n < 600; n++) {
        const text = n === 300 ? 'x'.repeat(40000) : n % 3 === 0 ? 'Zoë 🚀 ' + 'ü'.repeat(n) : 'plain ' + n;
        logger.info({ n, text }, 'line');
      }
      process.exit(0);
    `;
    const child = spawn(tsx, ['--input-type=module', '-e', script], { cwd: root });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { n: number; text: string });
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 600 }, (_, n) => n));
    for (const { n, text } of lines) {
      expect(text).toBe(
        n === 300 ? 'x'.repeat(40000) : n % 3 === 0 ? `Zoë 🚀 ${'ü'.repeat(n)}` : `plain ${n}`,
      );
    }
  });
});
