import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Launched {
  child: ChildProcess;
  /** Resolves with `ready`'s match in the output; rejects if the process exits first. */
  match: Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /** What it printed (the first 100 000 characters of each stream), for error messages. */
  output(): string;
}

/** Runs a compiled script (`dist/…`) with exactly `env`, and waits for `ready` on its stdout. */
export function launch(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Launched {
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  // Read everything (a full pipe would stall the process), keep the start.
  child.stderr?.on('data', (chunk) => {
    if (err.length < 100_000) err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const match = new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      if (out.length >= 100_000) return;
      out += chunk;
      const found = ready.exec(out);
      if (found) resolve(found);
    });
    void exited.then((code) => reject(new Error(`${script} exited with ${code}: ${out}${err}`)));
  });
  return { child, match, exited, output: () => out + err };
}

/** `launch` with only PATH inherited from this process, plus `env`. */
export const launchClean = (script: string, env: Record<string, string>, ready: RegExp): Launched =>
  launch(script, { PATH: process.env.PATH ?? '', ...env }, ready);

/** utime + stime of a process, in ms (Linux /proc; clock ticks are 100 Hz there). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Builds `dist/` when it is missing or older than `src/` (scripts/start.mjs); throws with the
 * compiler's output when the build fails, so that nothing measures or tests a stale `dist/`.
 * The benches and the tests that run `dist/main.js` share it.
 */
export function buildDist(): void {
  const build = spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}${build.stdout}`);
}

/**
 * Builds `dist/` when stale, then starts the sandbox alone with `appToken`
 * through `start` (a launcher of the caller's, which may track or decorate its processes).
 */
export async function buildAndStartSandbox(
  appToken: string,
  start: (script: string, env: Record<string, string>, ready: RegExp) => Launched = launchClean,
  env: Record<string, string> = {},
): Promise<{ sandbox: Launched; sandboxUrl: string }> {
  buildDist();
  const sandbox = start(
    'dist/sandbox/main.js',
    { SANDBOX_APP_TOKEN: appToken, SANDBOX_PORT: '0', ...env },
    /listening at (http:\/\/\S+)/,
  );
  return { sandbox, sandboxUrl: String((await sandbox.match)[1]) };
}

/** The app token the benches' fake of Circle accepts, and the API key their gateways know. */
export const benchAppToken = 'bench-app-token-0123456789';
export const benchApiKey = 'bench-api-key-0123456789abcdef';

/**
 * The members load is spread over, round robin: the bench body asks for `ada@example.com` (a
 * variable: one document, as clients send), and each request asks for the next of 64 members. Concurrent identical mints of one caller
 * for one member are one upstream call (coalesced mints): one member for every request would
 * measure that saving instead of a request's own work (bench/README.md, "Sessions"). With 64, the
 * requests in flight at once (32 connections) are all for different members, so each makes its own
 * mint, as each does on Apollo Server. (Spreading over callers instead would cost the gateway a
 * constant-time comparison per configured API key.) Every server gets the same bodies.
 */
export const benchMembers = Array.from(
  { length: 64 },
  (_, i) => `member${String(i).padStart(2, '0')}@example.com`,
);
/**
 * A rotation of its own over the bench members: `body` (asking for ada) asking for the next one.
 * Each server loaded at the same time as another needs its own (bench/paired.ts): sharing one, each
 * would get every other member, its requests in flight would cover 32 members instead of 64, and
 * two requests for one member at once would coalesce on the gateway and not on Apollo Server.
 */
export function memberRotation(): (body: string) => string {
  let next = 0;
  return (body) => body.replace('ada@example.com', benchMembers[next++ % benchMembers.length] as string);
}
/** `body` (asking for ada) asking for the next bench member instead: one rotation for the process. */
export const forNextMember = memberRotation();

/** A sandbox members file: ada (id 1) and the 64 bench members, for a sandbox the benches load. */
export function benchMembersFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cag-bench-members-')), 'members.json');
  const members = [
    { id: 1, email: 'ada@example.com', ssoId: 'sso-ada', name: 'Ada Lovelace' },
    ...benchMembers.map((email, i) => ({ id: 100 + i, email, ssoId: `sso-bench-${i}`, name: `Bench ${i}` })),
  ];
  writeFileSync(file, JSON.stringify(members));
  return file;
}

/** The operation every bench sends: a member token by email, every field. */
export const memberTokenDocument =
  'query MemberToken($value: String!) { memberToken(by: EMAIL, value: $value) { __typename ... on MemberToken { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt communityMemberId communityId } ... on Error { code message } } }';

/** A request body for `document` (the bench's by default), asking for ada: `forNextMember` moves it on. */
export const memberTokenBody = (document = memberTokenDocument): string =>
  JSON.stringify({ query: document, variables: { value: 'ada@example.com' } });

/**
 * The gateway as the benches measure it, on `upstream`: production mode and V8's young generation
 * capped, as the image sets them (Dockerfile); API-key authentication, every limit on and counted
 * but set high enough not to fire, metrics served, the access log at warn.
 */
export function benchGatewayEnv(upstream: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    NODE_OPTIONS: '--max-semi-space-size=8',
    CIRCLE_APP_TOKEN: benchAppToken,
    CIRCLE_BASE_URL: upstream,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    GATEWAY_API_KEYS: `bench:${benchApiKey}`,
    RATE_LIMIT_PER_CALLER: '1000000',
    RATE_LIMIT_PER_MEMBER: '1000000',
    CIRCLE_REQUEST_BUDGET: '1000000',
  };
}

/** The middle value (the upper one of two middles): what the benches report per server or setting. */
export const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
