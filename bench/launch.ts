import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** Builds `dist/` when it is missing or older than `src/` (scripts/start.mjs). */
export function buildDist(): void {
  spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], { cwd: root, stdio: 'inherit' });
}

/**
 * Builds `dist/` when stale, then starts the sandbox alone with `appToken`
 * through `start` (a launcher of the caller's, which may track or decorate its processes).
 */
export async function buildAndStartSandbox(
  appToken: string,
  start: (script: string, env: Record<string, string>, ready: RegExp) => Launched = launchClean,
): Promise<{ sandbox: Launched; sandboxUrl: string }> {
  buildDist();
  const sandbox = start(
    'dist/sandbox/main.js',
    { SANDBOX_APP_TOKEN: appToken, SANDBOX_PORT: '0' },
    /listening at (http:\/\/\S+)/,
  );
  return { sandbox, sandboxUrl: String((await sandbox.match)[1]) };
}

/** The app token the benches' fake of Circle accepts, and the API key their gateways know. */
export const benchAppToken = 'bench-app-token-0123456789';
export const benchApiKey = 'bench-api-key-0123456789abcdef';

/**
 * The callers load is spread over, one API key each, round robin. Concurrent identical mints of one
 * caller for one member are one upstream call (coalesced mints): one key for every request would
 * measure that saving instead of a request's own work (bench/README.md, "Sessions"). With 64
 * callers the requests in flight at once are all different callers, so each makes its own mint, as
 * each does on Apollo Server.
 */
export const benchApiKeys = Array.from(
  { length: 64 },
  (_, i) => `${benchApiKey}-${String(i).padStart(2, '0')}`,
);
let nextKey = 0;
/** autocannon's `setupRequest`: the next caller's key on each request. */
export const rotateCallers = (request: { headers?: Record<string, string> }) => ({
  ...request,
  headers: { ...request.headers, 'x-api-key': benchApiKeys[nextKey++ % benchApiKeys.length] as string },
});

/** The operation every bench sends: a member token by email, every field. */
export const memberTokenDocument =
  '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename ... on MemberToken { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt communityMemberId communityId } ... on Error { code message } } }';

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
    GATEWAY_API_KEYS: [`bench:${benchApiKey}`, ...benchApiKeys.map((key, i) => `bench${i}:${key}`)].join(','),
    RATE_LIMIT_PER_CALLER: '1000000',
    RATE_LIMIT_PER_MEMBER: '1000000',
    CIRCLE_REQUEST_BUDGET: '1000000',
  };
}

/** The middle value (the upper one of two middles): what the benches report per server or setting. */
export const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
