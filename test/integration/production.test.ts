import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The production install, as the image makes it: the compiled build and the lock file in a folder
 * of their own, `npm ci --omit=dev`, then `node dist/main.js` against the sandbox run alone from the
 * same install. It fails when anything the runtime needs is a devDependency, or the build is broken.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cag-production-'));
const children: ChildProcess[] = [];
const appToken = 'production-smoke-app-token';
const apiKey = 'production-smoke-api-key-0123456789';

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
}

function start(script: string, env: Record<string, string>, ready: RegExp): Promise<RegExpMatchArray> {
  const child = spawn(process.execPath, [script], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) resolve(match);
    });
    child.stderr?.on('data', (chunk) => {
      out += chunk;
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

beforeAll(() => {
  run(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      join(dir, 'dist'),
    ],
    root,
  );
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(root, file), join(dir, file));
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], dir);
}, 240_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the production install (npm ci --omit=dev, node dist/main.js)', () => {
  it('holds no development tool', () => {
    for (const tool of ['tsx', 'typescript', 'vitest', '@biomejs/biome']) {
      expect(existsSync(join(dir, 'node_modules', tool)), tool).toBe(false);
    }
  });

  it('answers memberToken with a real app token against the sandbox run alone', async () => {
    const [, sandboxUrl] = await start(
      'dist/sandbox/main.js',
      { SANDBOX_APP_TOKEN: appToken },
      /listening at (http:\/\/\S+)/,
    );
    const [, url, metricsUrl] = await start(
      'dist/main.js',
      {
        CIRCLE_APP_TOKEN: appToken,
        CIRCLE_BASE_URL: String(sandboxUrl),
        GATEWAY_API_KEYS: `smoke:${apiKey}`,
        PORT: '0',
        METRICS_PORT: '0',
        NODE_ENV: 'production',
      },
      /listening at (http:\/\/\S+\/graphql)\nmetrics at (http:\/\/\S+\/metrics)/,
    );
    const response = await fetch(String(url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({
        query:
          '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken communityMemberId } } }',
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      data: { memberToken: { accessToken: string; communityMemberId: string } };
    };
    expect(body.data.memberToken.accessToken).toMatch(/^eyJ/);
    expect(body.data.memberToken.communityMemberId).toBe('1');
    expect((await fetch(String(url).replace('/graphql', '/health'))).status).toBe(200);
    const metrics = await (await fetch(String(metricsUrl))).text();
    expect(metrics).toContain('circle_upstream_requests_total{endpoint="authToken",outcome="ok"} 1');
    expect(metrics).toContain('gateway_token_operations_total{operation="issue",outcome="ok"} 1');
  });
});
