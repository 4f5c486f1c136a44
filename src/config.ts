import { z } from 'zod';
import { loadMembers, type SandboxMember } from './sandbox/members.js';

/**
 * The only reader of the environment. Each variable is checked where it enters; a bad one stops
 * start-up with one line naming it, what was expected and what arrived (secrets are never echoed).
 * Mirrored in the README's configuration table.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

const SECRET_VARIABLES = new Set(['CIRCLE_APP_TOKEN', 'SANDBOX_APP_TOKEN']);

function read<T>(env: Env, name: string, schema: z.ZodType<T>, expected: string): T {
  const raw = env[name];
  const parsed = schema.safeParse(raw === '' ? undefined : raw);
  if (parsed.success) return parsed.data;
  const got =
    raw === undefined
      ? 'nothing'
      : SECRET_VARIABLES.has(name)
        ? `a value of ${raw.length} characters`
        : JSON.stringify(raw);
  throw new ConfigError(`${name}: expected ${expected}, got ${got}`);
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const httpUrl = z.url({ protocol: /^https?$/ }).transform((value) => new URL(value).origin);

export interface SandboxConfig {
  host: string;
  port: number;
  appToken: string;
  members?: SandboxMember[];
}

export interface GatewayConfig {
  /** Unset: sandbox mode, the embedded simulator starts and the gateway uses it. */
  circleAppToken: string | undefined;
  circleBaseUrl: string;
  host: string;
  port: number;
  production: boolean;
  graphiql: boolean;
  introspection: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Overall deadline of one upstream call, retries included. */
  upstreamTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /** Sockets in the keep-alive pool to Circle. */
  upstreamConnections: number;
  /** Distinct upstream calls one GraphQL request runs at once. */
  upstreamConcurrency: number;
  /** Upstream calls one GraphQL operation may make; fields beyond get RATE_LIMITED. */
  maxUpstreamCallsPerOperation: number;
  /** Largest request body accepted, by Content-Length. */
  maxRequestBodyBytes: number;
  /** Time in-flight requests get to finish on SIGTERM/SIGINT. */
  shutdownDrainMs: number;
  sandbox: SandboxConfig;
}

export function loadSandboxConfig(env: Env): SandboxConfig {
  const file = read(env, 'SANDBOX_MEMBERS_FILE', z.string().optional(), 'a path to a JSON file');
  let members: SandboxMember[] | undefined;
  if (file !== undefined) {
    try {
      members = loadMembers(file);
    } catch (error) {
      throw new ConfigError(`SANDBOX_MEMBERS_FILE: ${(error as Error).message}`);
    }
  }
  return {
    host: read(env, 'SANDBOX_HOST', z.string().default('127.0.0.1'), 'a host name or address'),
    port: read(env, 'SANDBOX_PORT', integer(0, 65535).default(0), 'an integer from 0 to 65535'),
    appToken: read(
      env,
      'SANDBOX_APP_TOKEN',
      z.string().min(8).default('sandbox-app-token'),
      'a token of at least 8 characters',
    ),
    ...(members ? { members } : {}),
  };
}

export function loadConfig(env: Env): GatewayConfig {
  const production = env.NODE_ENV === 'production';
  const circleAppToken = read(
    env,
    'CIRCLE_APP_TOKEN',
    z.string().min(16).optional(),
    'a Circle Headless Auth app token (at least 16 characters) or nothing for sandbox mode',
  );
  return {
    circleAppToken,
    circleBaseUrl: read(
      env,
      'CIRCLE_BASE_URL',
      httpUrl.default('https://app.circle.so'),
      'an http(s) URL such as https://app.circle.so',
    ),
    host: read(env, 'HOST', z.string().default('127.0.0.1'), 'a host name or address'),
    port: read(env, 'PORT', integer(0, 65535).default(4000), 'an integer from 0 to 65535'),
    production,
    graphiql: read(env, 'GRAPHIQL', flag.default(!production), 'true or false'),
    introspection: read(env, 'INTROSPECTION', flag.default(!production), 'true or false'),
    logLevel: read(
      env,
      'LOG_LEVEL',
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      'one of fatal, error, warn, info, debug, trace, silent',
    ),
    upstreamTimeoutMs: read(
      env,
      'UPSTREAM_TIMEOUT_MS',
      integer(100, 120_000).default(10_000),
      'an integer from 100 to 120000',
    ),
    upstreamConnectTimeoutMs: read(
      env,
      'UPSTREAM_CONNECT_TIMEOUT_MS',
      integer(50, 60_000).default(3000),
      'an integer from 50 to 60000',
    ),
    upstreamConnections: read(
      env,
      'UPSTREAM_CONNECTIONS',
      integer(1, 1024).default(16),
      'an integer from 1 to 1024',
    ),
    upstreamConcurrency: read(
      env,
      'UPSTREAM_CONCURRENCY',
      integer(1, 256).default(8),
      'an integer from 1 to 256',
    ),
    maxUpstreamCallsPerOperation: read(
      env,
      'MAX_UPSTREAM_CALLS_PER_OPERATION',
      integer(1, 10_000).default(50),
      'an integer from 1 to 10000',
    ),
    maxRequestBodyBytes: read(
      env,
      'MAX_REQUEST_BODY_BYTES',
      integer(1024, 10_000_000).default(100_000),
      'an integer from 1024 to 10000000',
    ),
    shutdownDrainMs: read(
      env,
      'SHUTDOWN_DRAIN_MS',
      integer(0, 600_000).default(10_000),
      'an integer from 0 to 600000',
    ),
    sandbox: loadSandboxConfig(env),
  };
}
