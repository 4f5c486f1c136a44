import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const children: ChildProcess[] = [];

/** The processes whose parent is `parent` (Linux /proc: field 4 of `stat` is the parent's pid). */
function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

afterEach(() => {
  // tsx runs the gateway as a child of its own: a kill of tsx alone would leave it running.
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || !child.pid) continue;
    for (const pid of childrenOf(child.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
  }
});

function start(env: Record<string, string>, script = 'src/main.ts') {
  const base = { ...process.env };
  for (const name of ['CIRCLE_APP_TOKEN', 'CIRCLE_BASE_URL', 'PORT', 'HOST', 'NODE_ENV']) delete base[name];
  const child = spawn(tsx, [script], {
    cwd: root,
    // The drain alone: the delay before it is tested behind a balancer (rolling-restart.test.ts).
    env: { ...base, LOG_LEVEL: 'warn', METRICS_PORT: '0', SHUTDOWN_DELAY_MS: '0', ...env },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => ({ stdout, stderr });
  async function waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    for (let i = 0; i < 300; i++) {
      const match = stdout.match(pattern);
      if (match) return match;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${pattern}; stdout: ${stdout}; stderr: ${stderr}`);
  }
  return { child, exited, output, waitFor };
}

const query = JSON.stringify({
  query: '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken } } }',
});

describe('npm start', () => {
  it('runs on the embedded sandbox with no CIRCLE_APP_TOKEN, prints how to try it, and drains on SIGTERM', async () => {
    const gateway = start({ PORT: '0' });
    const [, url] = await gateway.waitFor(/GraphiQL: {2}(http:\/\/\S+\/graphql)/);
    const [, sandboxUrl] = await gateway.waitFor(/sandbox listening at (http:\/\/\S+)/);
    const { stdout } = gateway.output();
    expect(stdout).toContain('SANDBOX MODE');
    expect(stdout).toContain('ada@example.com');
    expect(stdout).toContain('memberToken(by: EMAIL');

    const first = await fetch(String(url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: query,
    });
    expect(
      ((await first.json()) as { data: { memberToken: { accessToken: string } } }).data.memberToken
        .accessToken,
    ).toMatch(/^eyJ/);

    // An in-flight request that Circle answers slowly still completes after SIGTERM.
    await fetch(`${sandboxUrl}/__sandbox/faults`, {
      method: 'PUT',
      headers: { authorization: 'Bearer sandbox-app-token' },
      body: JSON.stringify({ latencyMs: 800 }),
    });
    const slow = fetch(String(url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: query,
    });
    // SIGTERM only once the gateway is really waiting on Circle for it (the sandbox counts it in
    // flight): a request still unread in a keep-alive socket is not in flight yet.
    for (let i = 0; i < 100; i++) {
      const stats = await fetch(`${sandboxUrl}/__sandbox/stats`, {
        headers: { authorization: 'Bearer sandbox-app-token' },
      });
      if (((await stats.json()) as { inFlight: number }).inFlight > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    gateway.child.kill('SIGTERM');
    const response = await slow;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    expect(
      ((await response.json()) as { data: { memberToken: { accessToken: string } } }).data.memberToken
        .accessToken,
    ).toMatch(/^eyJ/);
    expect(await gateway.exited).toBe(0);
  });

  it('stops with one line when its port is taken', async () => {
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const { port } = taken.address() as AddressInfo;
    try {
      const gateway = start({ PORT: String(port) });
      expect(await gateway.exited).toBe(1);
      expect(gateway.output().stderr).toBe(
        `circle-auth-gateway: cannot listen on 127.0.0.1:${port} (HOST, PORT): the address is already in use\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('stops at start-up with one line when the audit file cannot be written, and serves nothing', async () => {
    // A directory under a regular file: no user, root included, can create it.
    const file = `${fileURLToPath(import.meta.url)}/audit/trail.jsonl`;
    const gateway = start({ PORT: '0', AUDIT_LOG_FILE: file });
    expect(await gateway.exited).toBe(1);
    expect(gateway.output().stderr).toBe(
      `circle-auth-gateway: cannot write the audit trail to ${file} (AUDIT_LOG_FILE): ENOTDIR: not a directory, mkdir '${fileURLToPath(import.meta.url)}/audit'\n`,
    );
    expect(gateway.output().stdout).not.toContain('listening');
  });

  it('stops at start-up with one line naming a bad variable', async () => {
    const gateway = start({ PORT: 'eighty' });
    expect(await gateway.exited).toBe(1);
    expect(gateway.output().stderr).toBe(
      'circle-auth-gateway: PORT: expected an integer from 0 to 65535, got "eighty"\n',
    );
  });

  it('stops with one line for sessions with CORS_ORIGINS=*, and says when sessions live in this process only', async () => {
    const refused = start({ PORT: '0', SESSIONS: 'on', CORS_ORIGINS: '*' });
    expect(await refused.exited).toBe(1);
    expect(refused.output().stderr).toBe(
      'circle-auth-gateway: CORS_ORIGINS, SESSIONS: expected a list of origins with SESSIONS=on, got "*"\n',
    );
    const gateway = start({ PORT: '0', SESSIONS: 'on', CORS_ORIGINS: 'http://localhost:5173' });
    // Log lines are written out at least once a second.
    await gateway.waitFor(/"msg":"sessions in process memory[^"]*"/);
    expect(gateway.output().stdout).toContain(
      '"msg":"sessions in process memory: for one replica only, and lost on restart (set REDIS_URL to share them)"',
    );
  });

  it('on SIGTERM, answers /ready 503 at once on an open connection and keeps serving for SHUTDOWN_DELAY_MS', async () => {
    const gateway = start({ PORT: '0', SHUTDOWN_DELAY_MS: '1500', LOG_LEVEL: 'info' });
    const [, url] = await gateway.waitFor(/GraphiQL: {2}(http:\/\/\S+\/graphql)/);
    // One keep-alive connection, opened before the signal.
    const dispatcher = new Agent({ connections: 1 });
    const ready = () => fetch(String(url).replace(/\/graphql$/, '/ready'), { dispatcher });
    expect((await ready()).status).toBe(200);
    const signalled = Date.now();
    gateway.child.kill('SIGTERM');
    await gateway.waitFor(/\/ready answers 503/);
    const during = await ready();
    expect(during.status).toBe(503);
    expect(await during.json()).toEqual({
      ready: false,
      reason: 'Shutting down: finishing the requests in flight.',
    });
    const served = await fetch(String(url), {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: query,
    });
    expect(served.status).toBe(200);
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1500);
    await dispatcher.close();
  });

  it('refuses the open sandbox in production unless asked for, and /ready then names it', async () => {
    // An app-token secret that failed to render: empty, in production.
    const refused = start({ NODE_ENV: 'production', CIRCLE_APP_TOKEN: '' });
    expect(await refused.exited).toBe(1);
    expect(refused.output().stderr).toBe(
      'circle-auth-gateway: CIRCLE_APP_TOKEN: expected a Circle Headless Auth app token with NODE_ENV=production, got nothing (set SANDBOX=true to run the open sandbox in production on purpose)\n',
    );
    const asked = start({ NODE_ENV: 'production', SANDBOX: 'true', PORT: '0', LOG_LEVEL: 'info' });
    const [, url] = await asked.waitFor(/"url":"(http:[^"]+)\/graphql"/);
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      reason:
        'Sandbox mode: the embedded simulator of Circle answers, not Circle; no real member token is served.',
      sandbox: true,
    });
  });
});

describe('npm run sandbox', () => {
  it('honours SANDBOX_PORT and SANDBOX_APP_TOKEN and prints its URL, app token and members', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const sandbox = start(
      { SANDBOX_PORT: String(port), SANDBOX_APP_TOKEN: 'my-own-sandbox-token' },
      'src/sandbox/main.ts',
    );
    await sandbox.waitFor(/sso-edsger/);
    const { stdout } = sandbox.output();
    expect(stdout).toContain(`Circle Headless Auth sandbox listening at http://127.0.0.1:${port}`);
    expect(stdout).toContain('app token:   my-own-sandbox-token');
    expect(stdout).toContain('ada@example.com');
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/headless/auth_token`, {
      method: 'POST',
      headers: { authorization: 'Bearer my-own-sandbox-token', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com' }),
    });
    expect(response.status).toBe(200);
    sandbox.child.kill('SIGTERM');
    expect(await sandbox.exited).toBe(0);
  });
});
