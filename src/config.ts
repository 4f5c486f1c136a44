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

const SECRET_VARIABLES = new Set([
  'CIRCLE_APP_TOKEN',
  'SANDBOX_APP_TOKEN',
  'GATEWAY_API_KEYS',
  'GATEWAY_JWT_SECRET',
]);

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
  /** Browser origins allowed to call cross-origin: none (same-origin only), a list, or '*'. */
  corsOrigins: string[] | '*';
  /** Time in-flight requests get to finish on SIGTERM/SIGINT. */
  shutdownDrainMs: number;
  auth: AuthConfig;
  limits: LimitsConfig;
  sandbox: SandboxConfig;
}

export interface AuthConfig {
  /** Trusted backends: name → key (header `x-api-key`). */
  apiKeys: Map<string, string>;
  jwt?: {
    /** HS256 shared secret, or a JWKS URL for RS/ES/EdDSA keys: exactly one. */
    secret?: string;
    jwksUrl?: string;
    issuer: string;
    audience: string;
    /** Claim names: the member's verified email, SSO user id and Circle member id. */
    emailClaim: string;
    ssoClaim: string;
    memberIdClaim: string;
  };
}

export interface LimitsConfig {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  /** Token-bearing fields one caller may resolve per minute. */
  perCallerPerMinute: number;
  /** Token-bearing fields per member (or per refresh/access token) per minute. */
  perMemberPerMinute: number;
  /** Upstream calls the whole gateway makes per 5 minutes (0 = no budget). */
  circleBudgetPer5Min: number;
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
    corsOrigins: read(
      env,
      'CORS_ORIGINS',
      z
        .string()
        .transform((value) => (value.trim() === '*' ? '*' : value.split(',').map((o) => o.trim())))
        .pipe(
          z.union([
            z.literal('*'),
            z.array(z.url({ protocol: /^https?$/ }).transform((o) => new URL(o).origin)),
          ]),
        )
        .default([]),
      'a comma-separated list of origins such as https://app.example.com, or *',
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
    auth: loadAuthConfig(env, circleAppToken === undefined),
    limits: loadLimitsConfig(env, circleAppToken === undefined),
    sandbox: loadSandboxConfig(env),
  };
}

const apiKeysSchema = z
  .string()
  .transform((value) => value.split(',').map((pair) => pair.trim()))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}:\S{16,}$/)).min(1))
  .transform((pairs) =>
    pairs.map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)] as const),
  )
  // A repeated name or key is a copy-paste slip: refuse it rather than silently keep one.
  .refine((pairs) => new Set(pairs.map(([name]) => name)).size === pairs.length)
  .refine((pairs) => new Set(pairs.map(([, key]) => key)).size === pairs.length)
  .transform((pairs) => new Map(pairs))
  .optional();

function loadAuthConfig(env: Env, sandboxMode: boolean): AuthConfig {
  const apiKeys = read(
    env,
    'GATEWAY_API_KEYS',
    apiKeysSchema,
    'comma-separated name:key pairs (distinct names of letters, digits, _ . -; distinct keys of at least 16 characters)',
  );
  const secret = read(
    env,
    'GATEWAY_JWT_SECRET',
    z.string().min(32).optional(),
    'an HS256 secret of at least 32 characters',
  );
  const jwksUrl = read(
    env,
    'GATEWAY_JWKS_URL',
    z.url({ protocol: /^https?$/ }).optional(),
    'an http(s) URL of a JWKS',
  );
  const auth: AuthConfig = { apiKeys: apiKeys ?? new Map() };
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new ConfigError('GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL: expected one of them, got both');
  }
  if (secret !== undefined || jwksUrl !== undefined) {
    const claim = (name: string, fallback: string) =>
      read(
        env,
        name,
        z
          .string()
          .regex(/^[\w.:/-]{1,100}$/)
          .default(fallback),
        'a claim name',
      );
    auth.jwt = {
      ...(secret !== undefined ? { secret } : {}),
      ...(jwksUrl !== undefined ? { jwksUrl } : {}),
      issuer: read(env, 'GATEWAY_JWT_ISSUER', z.string().min(1), 'the issuer (iss) member JWTs must carry'),
      audience: read(
        env,
        'GATEWAY_JWT_AUDIENCE',
        z.string().min(1),
        'the audience (aud) member JWTs must carry',
      ),
      emailClaim: claim('GATEWAY_JWT_EMAIL_CLAIM', 'email'),
      ssoClaim: claim('GATEWAY_JWT_SSO_CLAIM', 'sub'),
      memberIdClaim: claim('GATEWAY_JWT_MEMBER_ID_CLAIM', 'circle_member_id'),
    };
  }
  if (!sandboxMode && auth.apiKeys.size === 0 && !auth.jwt) {
    throw new ConfigError(
      'GATEWAY_API_KEYS, GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL: expected at least one caller authentication when CIRCLE_APP_TOKEN is set, got none',
    );
  }
  return auth;
}

function loadLimitsConfig(env: Env, sandboxMode: boolean): LimitsConfig {
  const limit = (name: string, fallback: number, max: number) =>
    read(env, name, integer(1, max).default(fallback), `an integer from 1 to ${max}`);
  return {
    maxDepth: limit('MAX_DEPTH', 10, 100),
    maxAliases: limit('MAX_ALIASES', 50, 1000),
    maxTokens: limit('MAX_TOKENS', 2000, 100_000),
    maxDirectives: limit('MAX_DIRECTIVES', 10, 1000),
    maxCost: limit('MAX_COST', 5000, 1_000_000),
    perCallerPerMinute: limit('RATE_LIMIT_PER_CALLER', 600, 1_000_000),
    perMemberPerMinute: limit('RATE_LIMIT_PER_MEMBER', 30, 1_000_000),
    // Circle allows 2000 requests per 5 minutes per IP; keep a tenth of it for everything else.
    circleBudgetPer5Min: read(
      env,
      'CIRCLE_REQUEST_BUDGET',
      integer(0, 1_000_000).default(sandboxMode ? 0 : 1800),
      'an integer from 0 (no budget) to 1000000',
    ),
  };
}
