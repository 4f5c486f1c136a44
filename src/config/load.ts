import { readFileSync } from 'node:fs';
import { loadMembers, type SandboxMember } from './sandbox-members.js';
import { loadTrustedDocuments, type TrustedDocuments } from './trusted-documents.js';
import {
  apiKeyEntry,
  type Declaration,
  fileVariable,
  type Mode,
  schemaOf,
  type TrustedProxies,
  type ValueOf,
  type VariableName,
  variables,
} from './variables.js';

/**
 * The only reader of the environment, through the table in variables.ts. Each variable is checked
 * where it enters; a bad one stops start-up with one line naming it, what was expected and what
 * arrived (secrets are never echoed).
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

/** The raw value of `name`, from the variable itself or, where allowed, from the file `NAME_FILE` names. */
function rawOf(env: Env, name: VariableName): { raw: string | undefined; source: string } {
  const declared: Declaration = variables[name];
  const value = env[name] === '' ? undefined : env[name];
  if (!declared.fromFile) return { raw: value, source: name };
  const fileName = fileVariable(name);
  const path = env[fileName] === '' ? undefined : env[fileName];
  if (path === undefined) return { raw: value, source: name };
  if (value !== undefined) throw new ConfigError(`${name}, ${fileName}: expected one of them, got both`);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${fileName}: expected a readable file, got ${JSON.stringify(path)} (${reason})`);
  }
  // An empty secret file is a deployment mistake, never "unset" (which would mean sandbox mode).
  if (raw === '') throw new ConfigError(`${fileName}: expected a file holding ${name}, got an empty file`);
  return { raw, source: `${name} (from ${fileName})` };
}

function read<N extends VariableName>(env: Env, name: N, mode: Mode): ValueOf<N> {
  const { raw, source } = rawOf(env, name);
  const parsed = schemaOf(name, mode).safeParse(raw === '' ? undefined : raw);
  if (parsed.success) return parsed.data as ValueOf<N>;
  const declared: Declaration = variables[name];
  const got =
    raw === undefined
      ? 'nothing'
      : declared.secret
        ? `a value of ${raw.length} characters`
        : JSON.stringify(raw);
  throw new ConfigError(`${source}: expected ${declared.expected}, got ${got}`);
}

export interface SandboxConfig {
  host: string;
  port: number;
  appToken: string;
  members?: SandboxMember[];
  /** A second mint for a member returns the refresh token already issued (Circle leaves it open). */
  reuseRefreshTokens: boolean;
  /** A refresh while the access token last minted from it lives is refused (Circle leaves it open). */
  refuseEarlyRefresh: boolean;
  /** Access tokens' lifetime, in ms. */
  accessTokenTtlMs: number;
}

/** Sessions (SESSIONS): the refresh token stays on the server, browsers hold a cookie. */
export interface SessionsConfig {
  /** `required`: no field hands a member-JWT caller a refresh token. */
  mode: 'on' | 'required';
  cookieName: string;
  refreshMarginS: number;
  idleTimeoutS: number;
  maxAgeS: number;
  sweepIntervalS: number;
}

export interface GatewayConfig {
  /** Unset: sandbox mode, the embedded simulator starts and the gateway uses it. */
  circleAppToken: string | undefined;
  circleBaseUrl: string;
  host: string;
  port: number;
  graphiql: boolean;
  introspection: boolean;
  /** Compile repeated documents with graphql-jit (GRAPHQL_JIT). */
  graphqlJit: boolean;
  logLevel: ValueOf<'LOG_LEVEL'>;
  /** Overall deadline of one upstream call, retries included. */
  upstreamTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /** Sockets in the keep-alive pool to Circle. */
  upstreamConnections: number;
  /** Distinct upstream calls one GraphQL request runs at once. */
  upstreamConcurrency: number;
  /** Upstream calls one GraphQL operation may make; fields beyond get RATE_LIMITED. */
  maxUpstreamCallsPerOperation: number;
  /** `_entities` representations one request may send. */
  maxEntityRepresentations: number;
  /** Largest request body accepted, by Content-Length. */
  maxRequestBodyBytes: number;
  /** Browser origins allowed to call cross-origin: none (same-origin only), a list, or '*'. */
  corsOrigins: string[] | '*';
  /** How long `/ready` answers 503 while the gateway still serves, on SIGTERM/SIGINT, before the drain. */
  shutdownDelayMs: number;
  /** Time in-flight requests get to finish on SIGTERM/SIGINT. */
  shutdownDrainMs: number;
  /** V8's heap growing percent; 0 leaves V8's own. */
  heapGrowthPercent: number;
  /** Where `/metrics` is served; no port: no metrics. */
  metrics: { host: string; port: number | undefined };
  /** Where audit events are appended; unset: stdout. */
  auditLogFile: string | undefined;
  /** The documents member-JWT and anonymous callers are held to; unset: any document. */
  trustedDocuments: TrustedDocuments | undefined;
  /** Shared state for replicas; unset: this process only. */
  redis: { url: string; timeoutMs: number } | undefined;
  /** Sessions; unset: off. */
  sessions: SessionsConfig | undefined;
  /** OpenTelemetry traces: off without an endpoint. */
  tracing: { endpoint: string | undefined; serviceName: string };
  auth: AuthConfig;
  documentLimits: DocumentLimitsConfig;
  rateLimits: RateLimitsConfig;
  sandbox: SandboxConfig;
}

export interface AuthConfig {
  /** Trusted backends: name → key (header `x-api-key`). */
  apiKeys: Map<string, string>;
  /** The proxies whose `X-Forwarded-For` names an anonymous caller's address; none: the connection's. */
  trustedProxies?: TrustedProxies;
  jwt?: {
    /** HS256 shared secret, or a JWKS URL for RS/ES/EdDSA keys: exactly one. */
    secret?: string;
    jwksUrl?: string;
    issuer: string;
    audience: string;
    /** Claim names: the member's verified email, SSO user id and Circle member id. */
    emailClaim: string;
    /** The claim saying the email is verified (only `true` or `"true"` counts). */
    emailVerifiedClaim: string;
    /** The issuer puts only verified emails in the email claim: no flag needed. */
    emailsAlwaysVerified: boolean;
    /** The longest a JWT may be valid, from its `iat` (or now) to its `exp`, and the oldest `iat`. */
    maxAgeS: number;
    /** Clock skew allowed on `exp`, `nbf` and a future `iat`. */
    clockToleranceS: number;
    ssoClaim: string;
    memberIdClaim: string;
  };
}

/** What one GraphQL document may contain (graphql-armor), checked before anything runs. */
export interface DocumentLimitsConfig {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
}

/** How often token-bearing fields may be resolved, and how many upstream calls the process makes. */
export interface RateLimitsConfig {
  /** Token-bearing fields one caller may resolve per minute. */
  perCallerPerMinute: number;
  /** Token-bearing fields one anonymous caller (a client address, IPv6 by /64) may resolve per minute. */
  perAnonymousCallerPerMinute: number;
  /** Token-bearing fields per member (or per refresh/access token) per minute. */
  perMemberPerMinute: number;
  /** The percentage of the budget anonymous callers together may spend, revocations included. */
  anonymousBudgetPercent: number;
  /** Upstream calls the whole gateway makes per 5 minutes (0 = no budget). */
  circleBudgetPer5Min: number;
  /** Replicas that may run at once: while Redis is down, each keeps 1/replicas of every limit. */
  replicas: number;
}

export function loadSandboxConfig(env: Env): SandboxConfig {
  const mode: Mode = { production: false, sandbox: true };
  const file = read(env, 'SANDBOX_MEMBERS_FILE', mode);
  let members: SandboxMember[] | undefined;
  if (file !== undefined) {
    try {
      members = loadMembers(file);
    } catch (error) {
      throw new ConfigError(`SANDBOX_MEMBERS_FILE: ${(error as Error).message}`);
    }
  }
  return {
    host: read(env, 'SANDBOX_HOST', mode),
    port: read(env, 'SANDBOX_PORT', mode),
    appToken: read(env, 'SANDBOX_APP_TOKEN', mode),
    ...(members ? { members } : {}),
    reuseRefreshTokens: read(env, 'SANDBOX_REUSE_REFRESH_TOKENS', mode),
    refuseEarlyRefresh: read(env, 'SANDBOX_REFUSE_EARLY_REFRESH', mode),
    accessTokenTtlMs: read(env, 'SANDBOX_ACCESS_TOKEN_TTL_S', mode) * 1000,
  };
}

export function loadConfig(env: Env): GatewayConfig {
  const production = read(env, 'NODE_ENV', { production: false, sandbox: false }) === 'production';
  const circleAppToken = read(env, 'CIRCLE_APP_TOKEN', { production, sandbox: false });
  const sandboxAsked = read(env, 'SANDBOX', { production, sandbox: false });
  if (circleAppToken !== undefined && sandboxAsked) {
    throw new ConfigError('SANDBOX, CIRCLE_APP_TOKEN: expected one of them, got both');
  }
  // An empty or missing app token in production is a secret that failed to render, not a wish
  // for an open sandbox.
  if (circleAppToken === undefined && production && !sandboxAsked) {
    throw new ConfigError(
      'CIRCLE_APP_TOKEN: expected a Circle Headless Auth app token with NODE_ENV=production, got nothing (set SANDBOX=true to run the open sandbox in production on purpose)',
    );
  }
  const mode: Mode = { production, sandbox: circleAppToken === undefined };
  const corsOrigins = read(env, 'CORS_ORIGINS', mode);
  const sessions = sessionsConfig(env, mode);
  // Credentials cannot go to any origin: a cookie would then answer for whatever page asks.
  if (sessions && corsOrigins === '*') {
    throw new ConfigError(
      `CORS_ORIGINS, SESSIONS: expected a list of origins with SESSIONS=${sessions.mode}, got "*"`,
    );
  }
  return {
    circleAppToken,
    circleBaseUrl: read(env, 'CIRCLE_BASE_URL', mode),
    host: read(env, 'HOST', mode),
    port: read(env, 'PORT', mode),
    graphiql: read(env, 'GRAPHIQL', mode),
    introspection: read(env, 'INTROSPECTION', mode),
    graphqlJit: read(env, 'GRAPHQL_JIT', mode),
    logLevel: read(env, 'LOG_LEVEL', mode),
    upstreamTimeoutMs: read(env, 'UPSTREAM_TIMEOUT_MS', mode),
    upstreamConnectTimeoutMs: read(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', mode),
    upstreamConnections: read(env, 'UPSTREAM_CONNECTIONS', mode),
    upstreamConcurrency: read(env, 'UPSTREAM_CONCURRENCY', mode),
    maxUpstreamCallsPerOperation: read(env, 'MAX_UPSTREAM_CALLS_PER_OPERATION', mode),
    maxEntityRepresentations: read(env, 'MAX_ENTITY_REPRESENTATIONS', mode),
    corsOrigins,
    sessions,
    maxRequestBodyBytes: read(env, 'MAX_REQUEST_BODY_BYTES', mode),
    shutdownDelayMs: read(env, 'SHUTDOWN_DELAY_MS', mode),
    shutdownDrainMs: read(env, 'SHUTDOWN_DRAIN_MS', mode),
    heapGrowthPercent: read(env, 'HEAP_GROWTH_PERCENT', mode),
    metrics: { host: read(env, 'METRICS_HOST', mode), port: read(env, 'METRICS_PORT', mode) },
    auditLogFile: read(env, 'AUDIT_LOG_FILE', mode),
    redis: redisConfig(env, mode),
    trustedDocuments: trustedDocumentsOf(env, mode),
    tracing: {
      endpoint: read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', mode),
      serviceName: read(env, 'OTEL_SERVICE_NAME', mode),
    },
    auth: loadAuthConfig(env, mode),
    documentLimits: {
      maxDepth: read(env, 'MAX_DEPTH', mode),
      maxAliases: read(env, 'MAX_ALIASES', mode),
      maxTokens: read(env, 'MAX_TOKENS', mode),
      maxDirectives: read(env, 'MAX_DIRECTIVES', mode),
      maxCost: read(env, 'MAX_COST', mode),
    },
    rateLimits: {
      perCallerPerMinute: read(env, 'RATE_LIMIT_PER_CALLER', mode),
      perAnonymousCallerPerMinute: read(env, 'RATE_LIMIT_PER_ANONYMOUS_CALLER', mode),
      perMemberPerMinute: read(env, 'RATE_LIMIT_PER_MEMBER', mode),
      anonymousBudgetPercent: read(env, 'ANONYMOUS_BUDGET_PERCENT', mode),
      circleBudgetPer5Min: read(env, 'CIRCLE_REQUEST_BUDGET', mode),
      replicas: read(env, 'GATEWAY_REPLICAS', mode),
    },
    sandbox: loadSandboxConfig(env),
  };
}

function sessionsConfig(env: Env, mode: Mode): SessionsConfig | undefined {
  const sessions = read(env, 'SESSIONS', mode);
  if (sessions === 'off') return undefined;
  return {
    mode: sessions,
    cookieName: read(env, 'SESSION_COOKIE_NAME', mode),
    refreshMarginS: read(env, 'SESSION_REFRESH_MARGIN_S', mode),
    idleTimeoutS: read(env, 'SESSION_IDLE_TIMEOUT_S', mode),
    maxAgeS: read(env, 'SESSION_MAX_AGE_S', mode),
    sweepIntervalS: read(env, 'SESSION_SWEEP_INTERVAL_S', mode),
  };
}

function trustedDocumentsOf(env: Env, mode: Mode): TrustedDocuments | undefined {
  const path = read(env, 'TRUSTED_DOCUMENTS', mode);
  if (path === undefined) return undefined;
  try {
    return loadTrustedDocuments(path);
  } catch (error) {
    throw new ConfigError(`TRUSTED_DOCUMENTS: ${(error as Error).message}`);
  }
}

function redisConfig(env: Env, mode: Mode): GatewayConfig['redis'] {
  const url = read(env, 'REDIS_URL', mode);
  const timeoutMs = read(env, 'REDIS_TIMEOUT_MS', mode);
  return url === undefined ? undefined : { url, timeoutMs };
}

/**
 * Caller authentication alone, read again from the environment and the `*_FILE` files: what
 * `SIGHUP` reloads. `sandbox` is whether the gateway runs in sandbox mode (no app token).
 */
export function loadCallerAuth(env: Env, { sandbox }: { sandbox: boolean }): AuthConfig {
  return loadAuthConfig(env, { production: env.NODE_ENV === 'production', sandbox });
}

/**
 * What `SIGHUP` loads when the files are not all valid: the settings in force, less every API key
 * whose `name:key` entry is no longer in `GATEWAY_API_KEYS` (its well-formed entries are read, the
 * rest ignored). So a removal always applies, a key the file still lists keeps working, and what the
 * file adds or changes waits for a valid file; an unreadable or empty file removes every key.
 * Returns the settings to use and, when the file was not valid, why.
 */
export function reloadCallerAuth(
  env: Env,
  { sandbox, previous }: { sandbox: boolean; previous: AuthConfig },
): { auth: AuthConfig; problem?: string } {
  try {
    return { auth: loadCallerAuth(env, { sandbox }) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let listed = new Set<string>();
    try {
      const entries = (rawOf(env, 'GATEWAY_API_KEYS').raw ?? '').split(',').map((entry) => entry.trim());
      listed = new Set(entries.filter((entry) => apiKeyEntry.test(entry)));
    } catch {
      // unreadable: nothing is listed any more
    }
    const apiKeys = new Map([...previous.apiKeys].filter(([name, key]) => listed.has(`${name}:${key}`)));
    return { auth: { ...previous, apiKeys }, problem: error.message };
  }
}

function loadAuthConfig(env: Env, mode: Mode): AuthConfig {
  const apiKeys = read(env, 'GATEWAY_API_KEYS', mode);
  const secret = read(env, 'GATEWAY_JWT_SECRET', mode);
  const jwksUrl = read(env, 'GATEWAY_JWKS_URL', mode);
  const trustedProxies = read(env, 'TRUSTED_PROXIES', mode);
  const auth: AuthConfig = { apiKeys: apiKeys ?? new Map(), ...(trustedProxies ? { trustedProxies } : {}) };
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new ConfigError('GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL: expected one of them, got both');
  }
  if (secret !== undefined || jwksUrl !== undefined) {
    auth.jwt = {
      ...(secret !== undefined ? { secret } : {}),
      ...(jwksUrl !== undefined ? { jwksUrl } : {}),
      issuer: read(env, 'GATEWAY_JWT_ISSUER', mode),
      audience: read(env, 'GATEWAY_JWT_AUDIENCE', mode),
      emailClaim: read(env, 'GATEWAY_JWT_EMAIL_CLAIM', mode),
      emailVerifiedClaim: read(env, 'GATEWAY_JWT_EMAIL_VERIFIED_CLAIM', mode),
      emailsAlwaysVerified: read(env, 'GATEWAY_JWT_EMAILS_ALWAYS_VERIFIED', mode),
      maxAgeS: read(env, 'GATEWAY_JWT_MAX_AGE_S', mode),
      clockToleranceS: read(env, 'GATEWAY_JWT_CLOCK_TOLERANCE_S', mode),
      ssoClaim: read(env, 'GATEWAY_JWT_SSO_CLAIM', mode),
      memberIdClaim: read(env, 'GATEWAY_JWT_MEMBER_ID_CLAIM', mode),
    };
  }
  if (!mode.sandbox && auth.apiKeys.size === 0 && !auth.jwt) {
    throw new ConfigError(
      'GATEWAY_API_KEYS, GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL: expected at least one caller authentication when CIRCLE_APP_TOKEN is set, got none',
    );
  }
  return auth;
}
