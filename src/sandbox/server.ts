import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Faults, type FaultsInput, nextFault, parseFaults } from './faults.js';
import { demoMembers, type SandboxMember } from './members.js';
import { type Clock, Simulator } from './simulator.js';

export interface SandboxOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The app token it accepts. Default `sandbox-app-token`. */
  appToken?: string;
  /** A token answered with 403, like an Admin API token. Default `sandbox-admin-token`. */
  adminToken?: string;
  /** Default 1. */
  communityId?: number;
  /** Default: the demo members. */
  members?: readonly SandboxMember[];
  /** Key of the HS256 access tokens. Default: 32 random bytes. */
  jwtSecret?: Uint8Array;
  /** Refresh tokens and revoked token ids kept before the oldest are forgotten. Default 200000. */
  maxStoredTokens?: number;
  /** A second mint for a member answers its live refresh token again (simulator.ts). Default false. */
  reuseRefreshTokens?: boolean;
  /** A refresh while the last access token minted from it lives is refused (simulator.ts). Default false. */
  refuseEarlyRefresh?: boolean;
  /** Access tokens' lifetime in ms; default an hour, as Circle's. */
  accessTokenTtlMs?: number;
  /** Default: a `ManualClock` over the wall clock. */
  clock?: Clock;
  faults?: FaultsInput;
  /** Source of randomness for fault rates and jitter. Default `Math.random`. */
  random?: () => number;
  /** Called with every answer on a Circle route (tests compare it with the OpenAPI examples). */
  onAnswer?: (answer: { path: string; status: number; body: string }) => void;
}

export type SandboxEndpoint = 'authToken' | 'refresh' | 'revokeRefresh' | 'revokeAccess';

export interface SandboxStats {
  /** Requests received per Circle endpoint (faulted ones included). */
  calls: Record<SandboxEndpoint, number>;
  /** Requests in flight now, and the most there ever were at once. */
  inFlight: number;
  maxInFlight: number;
  /** Answers sent, by status. */
  statuses: Record<string, number>;
}

/** The wall clock plus an offset that tests and the admin route move forward. */
export class ManualClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface Sandbox {
  /** Origin to use as `CIRCLE_BASE_URL`. */
  readonly url: string;
  readonly appToken: string;
  readonly adminToken: string;
  readonly simulator: Simulator;
  readonly clock: Clock;
  setFaults(faults: FaultsInput): void;
  faults(): Faults;
  stats(): SandboxStats;
  resetStats(): void;
  close(): Promise<void>;
}

const endpointsByPath: Record<string, SandboxEndpoint> = {
  '/api/v1/headless/auth_token': 'authToken',
  '/api/v1/headless/access_token/refresh': 'refresh',
  '/api/v1/headless/refresh_token/revoke': 'revokeRefresh',
  '/api/v1/headless/access_token/revoke': 'revokeAccess',
};

const MAX_BODY_BYTES = 64 * 1024;

/** Fresh counters; requests still in flight stay counted so the gauge never goes negative. */
function emptyStats(inFlight = 0): SandboxStats {
  return {
    calls: { authToken: 0, refresh: 0, revokeRefresh: 0, revokeAccess: 0 },
    inFlight,
    maxInFlight: inFlight,
    statuses: {},
  };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the simulator on a loopback HTTP server. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const appToken = options.appToken ?? 'sandbox-app-token';
  const adminToken = options.adminToken ?? 'sandbox-admin-token';
  const clock = options.clock ?? new ManualClock();
  const random = options.random ?? Math.random;
  const simulator = new Simulator({
    appToken,
    adminToken,
    communityId: options.communityId ?? 1,
    members: options.members ?? demoMembers,
    clock,
    ...(options.jwtSecret ? { jwtSecret: options.jwtSecret } : {}),
    ...(options.maxStoredTokens ? { maxStoredTokens: options.maxStoredTokens } : {}),
    ...(options.reuseRefreshTokens ? { reuseRefreshTokens: true } : {}),
    ...(options.refuseEarlyRefresh ? { refuseEarlyRefresh: true } : {}),
    ...(options.accessTokenTtlMs ? { accessTokenTtlMs: options.accessTokenTtlMs } : {}),
  });
  let faults = parseFaults(options.faults ?? {});
  let stats = emptyStats();

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const path = (res.req.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith('/__sandbox/')) {
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      options.onAnswer?.({ path, status, body: text });
    }
    if (body === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(text);
  };

  async function admin(req: IncomingMessage, res: ServerResponse, path: string, body: string) {
    if (req.headers.authorization !== `Bearer ${appToken}`) {
      send(res, 401, { message: 'The sandbox admin routes take the sandbox app token as a Bearer token.' });
      return;
    }
    const route = `${req.method} ${path}`;
    try {
      if (route === 'GET /__sandbox/stats') return send(res, 200, stats);
      if (route === 'DELETE /__sandbox/stats') {
        stats = emptyStats(stats.inFlight);
        return send(res, 204);
      }
      if (route === 'GET /__sandbox/faults') return send(res, 200, faults);
      if (route === 'PUT /__sandbox/faults') {
        faults = parseFaults(body === '' ? {} : JSON.parse(body));
        return send(res, 200, faults);
      }
      if (route === 'GET /__sandbox/members') return send(res, 200, simulator.members);
      if (route === 'POST /__sandbox/token-state') {
        // What the sandbox knows of a token: tests check a revocation really happened here.
        const { access_token: access, refresh_token: refresh } = JSON.parse(body || '{}') as {
          access_token?: unknown;
          refresh_token?: unknown;
        };
        if (typeof access === 'string')
          return send(res, 200, { state: await simulator.accessTokenState(access) });
        if (typeof refresh === 'string')
          return send(res, 200, { state: simulator.refreshTokenState(refresh) });
        return send(res, 400, { message: 'Expected {"access_token": "..."} or {"refresh_token": "..."}.' });
      }
      if (route === 'POST /__sandbox/clock') {
        const advanceMs = Number((JSON.parse(body || '{}') as { advanceMs?: unknown }).advanceMs);
        if (!(clock instanceof ManualClock))
          return send(res, 409, { message: 'This sandbox has an injected clock.' });
        if (!Number.isFinite(advanceMs) || advanceMs < 0) {
          return send(res, 400, { message: 'Expected {"advanceMs": <non-negative number>}.' });
        }
        clock.advance(advanceMs);
        return send(res, 200, { now: new Date(clock.now()).toISOString() });
      }
      return send(res, 404, { message: 'No such sandbox admin route.' });
    } catch (failure) {
      return send(res, 400, { message: (failure as Error).message });
    }
  }

  async function circle(req: IncomingMessage, res: ServerResponse, path: string, body: string) {
    const endpoint = endpointsByPath[path];
    if (endpoint) stats.calls[endpoint] += 1;
    const { fault, delayMs } = nextFault(faults, random);
    if (delayMs > 0) await sleep(delayMs);
    switch (fault.kind) {
      case 'hang':
        return; // never answered; the socket closes when the client gives up or the sandbox stops
      case 'reset':
        req.socket.destroy();
        return;
      case 'delay':
        await sleep(fault.ms);
        break;
      case 'error':
        return fault.html
          ? send(res, fault.status, '<html><body><h1>502 Bad Gateway</h1></body></html>', {
              'content-type': 'text/html',
            })
          : send(res, fault.status, {
              success: false,
              message: 'Something went wrong. Please try again later.',
              error_details: {},
            });
      case 'rateLimit':
        return send(
          res,
          429,
          { success: false, message: 'Too many requests.', error_details: {} },
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
        );
      case 'raw':
        return send(res, fault.status, fault.body);
      default:
        break;
    }
    const answer = await simulator.handle({
      method: req.method ?? 'GET',
      path,
      authorization: req.headers.authorization,
      body,
    });
    send(res, answer.status, answer.body);
  }

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const isAdmin = path.startsWith('/__sandbox/');
    if (!isAdmin) {
      stats.inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      res.once('close', () => {
        stats.inFlight -= 1;
      });
    }
    try {
      const body = await readBody(req);
      if (body === undefined) {
        send(res, 413, { success: false, message: 'Request body too large.', error_details: {} });
        return;
      }
      await (isAdmin ? admin(req, res, path, body) : circle(req, res, path, body));
    } catch {
      if (!res.headersSent)
        send(res, 500, { success: false, message: 'Sandbox failure.', error_details: {} });
    }
  });
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    appToken,
    adminToken,
    simulator,
    clock,
    setFaults(input) {
      faults = parseFaults(input);
    },
    faults: () => faults,
    stats: () => structuredClone(stats),
    resetStats() {
      stats = emptyStats(stats.inFlight);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
