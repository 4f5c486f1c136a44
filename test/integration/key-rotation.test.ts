import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Key rotation on a real process (one node process, no wrapper, so the signal reaches the server):
 * API keys from GATEWAY_API_KEYS_FILE, rewritten and re-read on SIGHUP while requests keep coming.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cag-rotation-'));
const keysFile = join(dir, 'api-keys');
const oldKey = 'old-key-0123456789abcdef';
const newKey = 'new-key-0123456789abcdef';
let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const query = JSON.stringify({
  query: '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken } } }',
});

describe('SIGHUP re-reads caller authentication', () => {
  it('rotates API keys without dropping a request; with a bad file, removals apply and additions wait', async () => {
    writeFileSync(keysFile, `billing:${oldKey}\n`);
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
        GATEWAY_API_KEYS_FILE: keysFile,
      },
    });
    let stdout = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    const waitFor = async (pattern: RegExp, from = 0) => {
      for (let i = 0; i < 400; i++) {
        const match = pattern.exec(stdout.slice(from));
        if (match) return match;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`timed out waiting for ${pattern}: ${stdout}`);
    };
    const [, url] = await waitFor(/GraphiQL: {2}(http:\/\/\S+\/graphql)/);
    const ask = (key: string) =>
      fetch(String(url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: query,
      }).then((response) => response.status);

    // Requests with the old key keep coming through every reload until the old key is removed.
    const statuses: number[] = [];
    const failures: unknown[] = [];
    let running = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          try {
            statuses.push(await ask(oldKey));
          } catch (error) {
            failures.push(error);
          }
        }
      }),
    );

    const reload = async (content: string, expected: RegExp) => {
      const mark = stdout.length;
      writeFileSync(keysFile, content);
      child?.kill('SIGHUP');
      await waitFor(expected, mark);
    };

    expect(await ask(newKey)).toBe(401);
    await reload(`billing:${oldKey},rotation:${newKey}\n`, /SIGHUP: caller authentication reloaded/);
    expect(await ask(newKey)).toBe(200);
    // A bad entry beside the others: keys still listed keep working.
    const invalid =
      /SIGHUP: the new settings are not valid: the previous ones kept, less the API keys no longer listed/;
    await reload(`billing:${oldKey},rotation:${newKey},not a key\n`, invalid);
    expect(await ask(newKey)).toBe(200);
    expect(await ask(oldKey)).toBe(200);
    running = false;
    await load;
    expect(failures).toEqual([]);
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));

    // A removal applies even when the file has a bad entry; an addition waits for a valid file.
    const added = 'added-key-0123456789abcdef';
    await reload(`rotation:${newKey},extra:${added},oops\n`, invalid);
    expect(await ask(oldKey)).toBe(401);
    expect(await ask(newKey)).toBe(200);
    expect(await ask(added)).toBe(401);
    // A file of nothing valid lists no key: every key is refused until it is fixed.
    await reload('not a key list\n', invalid);
    expect(await ask(newKey)).toBe(401);
    await reload(`rotation:${newKey}\n`, /SIGHUP: caller authentication reloaded/);
    expect(await ask(oldKey)).toBe(401);
    expect(await ask(newKey)).toBe(200);
    // The refusal names the variable and never echoes the file's content.
    expect(stdout).toContain(
      'GATEWAY_API_KEYS (from GATEWAY_API_KEYS_FILE): expected comma-separated name:key pairs',
    );
    expect(stdout).not.toContain(oldKey);
    expect(stdout).not.toContain(newKey);
    expect(stdout).not.toContain(added);
  });
});
