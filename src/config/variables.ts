import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every environment variable the gateway and the sandbox read, declared once: its section, how it
 * is parsed (zod, with its default), what a bad value is told it should be, the default as the
 * README shows it, and what it means. `load.ts` reads only through this table, and the README's
 * configuration table is generated from it (`npm run docs`; a test fails when they drift).
 */

/** What a default may depend on: production (`NODE_ENV=production`) and sandbox mode (no app token). */
export interface Mode {
  production: boolean;
  sandbox: boolean;
}

export interface Declaration<S extends z.ZodType = z.ZodType> {
  section: Section;
  /** Parses the raw value (an empty string counts as unset); a function when the default depends on the mode. */
  schema: S | ((mode: Mode) => S);
  /** Completes "NAME: expected …, got …". */
  expected: string;
  /** The default as the README shows it. */
  shownDefault: string;
  meaning: string;
  /** Never echoed in an error: a bad value is described by its length. */
  secret?: boolean;
  /**
   * May be given as a file instead (Docker and Kubernetes secrets): `NAME_FILE` names a file whose
   * content, less one trailing newline, is the value. Setting both is an error.
   */
  fromFile?: boolean;
}

const sections = [
  'Circle and the sandbox',
  'Listening and HTTP',
  'Callers',
  'Document and rate limits',
  'Upstream calls',
  'Replicas',
  'Sessions',
  'Operations',
] as const;
export type Section = (typeof sections)[number];

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const httpUrl = z.url({ protocol: /^https?$/ }).transform((value) => new URL(value).origin);
const claimName = (fallback: string) =>
  z
    .string()
    .regex(/^[\w.:/-]{1,100}$/)
    .default(fallback);
/** One `name:key` entry of GATEWAY_API_KEYS. */
export const apiKeyEntry = /^[A-Za-z0-9_.-]{1,64}:\S{16,}$/;
const apiKeys = z
  .string()
  .transform((value) => value.split(',').map((pair) => pair.trim()))
  .pipe(z.array(z.string().regex(apiKeyEntry)).min(1))
  .transform((pairs) =>
    pairs.map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)] as const),
  )
  // A repeated name or key is a copy-paste slip: refuse it rather than silently keep one.
  .refine((pairs) => new Set(pairs.map(([name]) => name)).size === pairs.length)
  .refine((pairs) => new Set(pairs.map(([, key]) => key)).size === pairs.length)
  .transform((pairs) => new Map(pairs))
  .optional();
const corsOrigins = z
  .string()
  .transform((value) => (value.trim() === '*' ? '*' : value.split(',').map((o) => o.trim())))
  .pipe(
    z.union([z.literal('*'), z.array(z.url({ protocol: /^https?$/ }).transform((o) => new URL(o).origin))]),
  )
  .default([]);
const limit = (fallback: number, max: number) => ({
  schema: integer(1, max).default(fallback),
  expected: `an integer from 1 to ${max}`,
  shownDefault: `\`${fallback}\``,
});

const circle = 'Circle and the sandbox';
const http = 'Listening and HTTP';
const callers = 'Callers';
const limits = 'Document and rate limits';
const upstream = 'Upstream calls';
const replicas = 'Replicas';
const sessions = 'Sessions';
const operations = 'Operations';

/**
 * The proxies in front of the gateway: which addresses (IPs or CIDR ranges) they connect from, and
 * optionally how many of them a request passes, counted only when the peer is one of them.
 */
export type TrustedProxies = { hops: number; ranges: ProxyRange[] } | { ranges: ProxyRange[] };
export interface ProxyRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

function parseRange(entry: string): ProxyRange | undefined {
  const [address = '', bits, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
function parseRanges(text: string): ProxyRange[] | undefined {
  const ranges = text.split(',').map((entry) => parseRange(entry.trim()));
  return ranges.every((range) => range !== undefined) ? ranges : undefined;
}
const trustedProxies = z
  .string()
  .transform((value, context): TrustedProxies => {
    const trimmed = value.trim();
    // `N@ranges`: N hops, read only from a peer in the ranges. A bare count would trust any peer,
    // so a direct client could pick its own address (and rate-limit identity) with the header.
    const counted = /^(\d+)@(.+)$/.exec(trimmed);
    if (counted) {
      const hops = Number(counted[1]);
      const ranges = parseRanges(counted[2] as string);
      if (hops >= 1 && hops <= 16 && ranges) return { hops, ranges };
    } else if (!/^\d+$/.test(trimmed)) {
      const ranges = parseRanges(trimmed);
      if (ranges) return { ranges };
    }
    context.addIssue({ code: 'custom', message: 'bad' });
    return z.NEVER;
  })
  .optional();

export const variables = {
  CIRCLE_APP_TOKEN: {
    section: circle,
    schema: z.string().min(16).optional(),
    expected: 'a Circle Headless Auth app token (at least 16 characters) or nothing for sandbox mode',
    shownDefault: 'unset',
    meaning:
      'Circle Headless Auth app token. **Unset = sandbox mode**: the embedded simulator starts on a loopback port and the gateway uses it',
    secret: true,
    fromFile: true,
  },
  SANDBOX: {
    section: circle,
    schema: flag.default(false),
    expected: 'true or false',
    shownDefault: '`false`',
    meaning:
      'with `NODE_ENV=production`, run the embedded sandbox (open to anyone without caller authentication) instead of refusing to start without `CIRCLE_APP_TOKEN`: a production deployment whose app-token secret failed to render must not serve open access and call itself ready. Outside production the sandbox starts whenever `CIRCLE_APP_TOKEN` is unset. Not with `CIRCLE_APP_TOKEN`',
  },
  CIRCLE_BASE_URL: {
    section: circle,
    schema: httpUrl.default('https://app.circle.so'),
    expected: 'an http(s) URL such as https://app.circle.so',
    shownDefault: '`https://app.circle.so`',
    meaning: 'upstream origin (tests and benchmarks point it at a sandbox)',
  },
  SANDBOX_HOST: {
    section: circle,
    schema: z.string().default('127.0.0.1'),
    expected: 'a host name or address',
    shownDefault: '`127.0.0.1`',
    meaning: 'where the sandbox listens (sandbox mode and `npm run sandbox`)',
  },
  SANDBOX_PORT: {
    section: circle,
    schema: integer(0, 65535).default(0),
    expected: 'an integer from 0 to 65535',
    shownDefault: '`0`',
    meaning: 'the sandbox port; 0 takes any free port',
  },
  SANDBOX_APP_TOKEN: {
    section: circle,
    schema: z.string().min(8).default('sandbox-app-token'),
    expected: 'a token of at least 8 characters',
    shownDefault: '`sandbox-app-token`',
    meaning: 'the app token the sandbox accepts (`sandbox-admin-token` is answered 403)',
    secret: true,
  },
  SANDBOX_REUSE_REFRESH_TOKENS: {
    section: circle,
    schema: flag.default(false),
    expected: 'true or false',
    shownDefault: '`false`',
    meaning:
      'the sandbox answers a second mint for a member with the refresh token it already issued (while it lives) instead of a new one: one reading of a thing Circle leaves undocumented; sessions are tested under both',
  },
  SANDBOX_REFUSE_EARLY_REFRESH: {
    section: circle,
    schema: flag.default(false),
    expected: 'true or false',
    shownDefault: '`false`',
    meaning:
      'the sandbox refuses (422) a refresh while the last access token minted from that refresh token is still valid: the other reading of the second thing Circle leaves undocumented',
  },
  SANDBOX_ACCESS_TOKEN_TTL_S: {
    section: circle,
    schema: integer(10, 3600).default(3600),
    expected: 'an integer from 10 to 3600',
    shownDefault: '`3600`',
    meaning:
      "the sandbox's access-token lifetime (Circle's is an hour); benchmarks shorten it to run an hour of sessions in seconds",
  },
  SANDBOX_MEMBERS_FILE: {
    section: circle,
    schema: z.string().optional(),
    expected: 'a path to a JSON file',
    shownDefault: 'unset',
    meaning: 'JSON file `[{ "id", "email", "ssoId", "name" }]` replacing the demo members',
  },
  HOST: {
    section: http,
    schema: z.string().default('127.0.0.1'),
    expected: 'a host name or address',
    shownDefault: '`127.0.0.1`',
    meaning: 'where the gateway listens',
  },
  PORT: {
    section: http,
    schema: integer(0, 65535).default(4000),
    expected: 'an integer from 0 to 65535',
    shownDefault: '`4000`',
    meaning: 'the gateway port; GraphQL at `/graphql`, liveness at `/health`, readiness at `/ready`',
  },
  NODE_ENV: {
    section: http,
    schema: z.string().optional(),
    expected: 'any text',
    shownDefault: 'unset',
    meaning: '`production` turns GraphiQL and introspection off unless enabled explicitly',
  },
  GRAPHIQL: {
    section: http,
    schema: (mode: Mode) => flag.default(!mode.production),
    expected: 'true or false',
    shownDefault: '`true` (`false` in production)',
    meaning: 'serve GraphiQL at `/graphql` (assets inlined, no CDN)',
  },
  INTROSPECTION: {
    section: http,
    schema: (mode: Mode) => flag.default(!mode.production),
    expected: 'true or false',
    shownDefault: '`true` (`false` in production)',
    meaning: 'allow introspection queries (field suggestions are hidden when off)',
  },
  GRAPHQL_JIT: {
    section: http,
    schema: flag.default(true),
    expected: 'true or false',
    shownDefault: '`true`',
    meaning:
      'compile a document with graphql-jit on its second run (a quarter less CPU for repeated documents; one-off documents are never compiled); `false` runs every document on graphql-js, should a compiled query ever answer differently',
  },
  LOG_LEVEL: {
    section: http,
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
    shownDefault: '`info`',
    meaning: 'pino level',
  },
  CORS_ORIGINS: {
    section: http,
    schema: corsOrigins,
    expected: 'a comma-separated list of origins such as https://app.example.com, or *',
    shownDefault: 'unset (same-origin only)',
    meaning: 'browser origins allowed to call cross-origin, or `*`',
  },
  MAX_REQUEST_BODY_BYTES: {
    section: http,
    schema: integer(1024, 10_000_000).default(100_000),
    expected: 'an integer from 1024 to 10000000',
    shownDefault: '`100000`',
    meaning: 'largest request body, by `Content-Length` (413 beyond; 411 without the header)',
  },
  SHUTDOWN_DELAY_MS: {
    section: http,
    schema: integer(0, 600_000).default(5000),
    expected: 'an integer from 0 to 600000',
    shownDefault: '`5000`',
    meaning:
      'on SIGTERM/SIGINT, `/ready` answers 503 at once on every connection while the gateway keeps serving for this long, so load balancers and Kubernetes stop routing here before the listener closes; then the drain. 0 closes at once (only behind a balancer that retries)',
  },
  SHUTDOWN_DRAIN_MS: {
    section: http,
    schema: integer(0, 600_000).default(10_000),
    expected: 'an integer from 0 to 600000',
    shownDefault: '`10000`',
    meaning:
      'after `SHUTDOWN_DELAY_MS`, time in-flight requests get to finish before their connections are closed; the stop timeout (docker stop, `terminationGracePeriodSeconds`) must exceed the two together',
  },
  HEAP_GROWTH_PERCENT: {
    section: http,
    schema: integer(0, 1000).default(50),
    expected: 'an integer from 0 to 1000',
    shownDefault: '`50`',
    meaning:
      "how far the JavaScript heap may grow past its live size before a full collection (V8's `--heap-growing-percent`): lower keeps memory down for more CPU (under load: 20 → RSS 153 MiB, +13 % CPU per operation; 50 → 158 MiB, +8 %; 100 → 180 MiB, +0 %); 0 = V8's own factor (231 MiB)",
  },
  GATEWAY_API_KEYS: {
    section: callers,
    schema: apiKeys,
    expected:
      'comma-separated name:key pairs (distinct names of letters, digits, _ . -; distinct keys of at least 16 characters)',
    shownDefault: 'unset',
    meaning:
      'trusted backends as `name:key` pairs; a request with `x-api-key: <key>` is backend `name` and may get tokens for any member. Re-read on `SIGHUP`',
    secret: true,
    fromFile: true,
  },
  GATEWAY_JWT_SECRET: {
    section: callers,
    schema: z.string().min(32).optional(),
    expected: 'an HS256 secret of at least 32 characters',
    shownDefault: 'unset',
    meaning:
      'HS256 secret of member JWTs (`Authorization: Bearer <JWT>`); a member gets tokens only for itself. Exclusive with `GATEWAY_JWKS_URL`. Re-read on `SIGHUP`, with the other `GATEWAY_JWT_*`',
    secret: true,
    fromFile: true,
  },
  GATEWAY_JWKS_URL: {
    section: callers,
    schema: z.url({ protocol: /^https?$/ }).optional(),
    expected: 'an http(s) URL of a JWKS',
    shownDefault: 'unset',
    meaning: 'JWKS of member JWTs signed with RS/PS/ES/EdDSA keys. Exclusive with `GATEWAY_JWT_SECRET`',
  },
  GATEWAY_JWT_ISSUER: {
    section: callers,
    schema: z.string().min(1),
    expected: 'the issuer (iss) member JWTs must carry',
    shownDefault: 'required with a JWT secret or JWKS',
    meaning: 'the `iss` every member JWT must carry',
  },
  GATEWAY_JWT_AUDIENCE: {
    section: callers,
    schema: z.string().min(1),
    expected: 'the audience (aud) member JWTs must carry',
    shownDefault: 'required with a JWT secret or JWKS',
    meaning: 'the `aud` every member JWT must carry',
  },
  GATEWAY_JWT_EMAIL_CLAIM: {
    section: callers,
    schema: claimName('email'),
    expected: 'a claim name',
    shownDefault: '`email`',
    meaning:
      'claim holding the member\'s email; it identifies the member only when the verified claim says `true` (or `"true"`), or with `GATEWAY_JWT_EMAILS_ALWAYS_VERIFIED`',
  },
  GATEWAY_JWT_EMAIL_VERIFIED_CLAIM: {
    section: callers,
    schema: claimName('email_verified'),
    expected: 'a claim name',
    shownDefault: '`email_verified`',
    meaning:
      'claim saying the email is verified: only `true` or `"true"` counts; missing, `false`, `0`, `null` or anything else means unverified (fail closed: some issuers put unverified emails in tokens)',
  },
  GATEWAY_JWT_EMAILS_ALWAYS_VERIFIED: {
    section: callers,
    schema: flag.default(false),
    expected: 'true or false',
    shownDefault: '`false`',
    meaning:
      "the issuer puts only verified emails in the email claim, so the email counts without a verified claim; say so only of an issuer you know does (Entra ID's `mail`, for one, does not)",
  },
  GATEWAY_JWT_MAX_AGE_S: {
    section: callers,
    schema: integer(60, 31_536_000).default(86_400),
    expected: 'an integer from 60 to 31536000',
    shownDefault: '`86400`',
    meaning:
      "the longest a member JWT may be valid: from its `iat` (or now, without one) to its `exp`, and no older than this since its `iat`; every JWT must carry an `exp`. A day covers any sign-in session's ID token; a JWT meant to live for months is a leaked credential's best friend",
  },
  GATEWAY_JWT_CLOCK_TOLERANCE_S: {
    section: callers,
    schema: integer(0, 600).default(60),
    expected: 'an integer from 0 to 600',
    shownDefault: '`60`',
    meaning:
      'clock skew allowed between the issuer and the gateway, on `exp`, `nbf` and an `iat` in the future (refused beyond it)',
  },
  GATEWAY_JWT_SSO_CLAIM: {
    section: callers,
    schema: claimName('sub'),
    expected: 'a claim name',
    shownDefault: '`sub`',
    meaning: "claim holding the member's SSO user id",
  },
  GATEWAY_JWT_MEMBER_ID_CLAIM: {
    section: callers,
    schema: claimName('circle_member_id'),
    expected: 'a claim name',
    shownDefault: '`circle_member_id`',
    meaning: "claim holding the member's Circle community member id",
  },
  TRUSTED_DOCUMENTS: {
    section: callers,
    schema: z.string().min(1).optional(),
    expected: 'a file path',
    shownDefault: 'unset (any document)',
    meaning:
      "a trusted-documents manifest (JSON: id → document, or Apollo's persisted query manifest): member-JWT and anonymous callers may then run only its documents, by `documentId` or `extensions.persistedQuery.sha256Hash`; API-key callers (routers, backends, and GraphiQL users who add an `x-api-key` header) may still send any document",
  },
  MAX_DEPTH: { section: limits, ...limit(10, 100), meaning: 'deepest document (inline fragments count)' },
  MAX_ALIASES: { section: limits, ...limit(50, 1000), meaning: 'aliases in one document' },
  MAX_TOKENS: { section: limits, ...limit(2000, 100_000), meaning: 'lexical tokens in one document' },
  MAX_DIRECTIVES: { section: limits, ...limit(10, 1000), meaning: 'directives in one document' },
  MAX_COST: { section: limits, ...limit(5000, 1_000_000), meaning: "graphql-armor's cost of one document" },
  MAX_ENTITY_REPRESENTATIONS: {
    section: limits,
    ...limit(100, 100_000),
    meaning:
      'federation `_entities` representations one request may send (all its `_entities` fields together); beyond, the request is refused before any is looked up. A router sends one per entity it needs: raise it if your router batches more members in one fetch',
  },
  RATE_LIMIT_PER_CALLER: {
    section: limits,
    ...limit(600, 1_000_000),
    meaning:
      'token-bearing fields one caller (API key name, JWT subject, or client IP when anonymous) may resolve per minute',
  },
  RATE_LIMIT_PER_ANONYMOUS_CALLER: {
    section: limits,
    ...limit(30, 1_000_000),
    meaning:
      'token-bearing fields one caller without credentials (keyed by client address, IPv6 by its /64) may resolve per minute: such a caller can only refresh or revoke tokens it holds, which a real browser does a few times an hour, so a public deployment keeps it low',
  },
  RATE_LIMIT_PER_MEMBER: {
    section: limits,
    ...limit(30, 1_000_000),
    meaning: 'token-bearing fields per member (or per refresh/access token, hashed) per minute',
  },
  CIRCLE_REQUEST_BUDGET: {
    section: limits,
    // Circle allows 2000 requests per 5 minutes per IP; keep a tenth of it for everything else.
    schema: (mode: Mode) => integer(0, 1_000_000).default(mode.sandbox ? 0 : 1800),
    expected: 'an integer from 0 (no budget) to 1000000',
    shownDefault: '`1800` (`0` in sandbox mode)',
    meaning:
      "upstream calls per 5 minutes, a share of Circle's 2000 per IP: of this process, or of all replicas together with `REDIS_URL`; beyond it `RATE_LIMITED` (revocations by authenticated callers are never refused, new mints stop at 90 %; callers without credentials get `ANONYMOUS_BUDGET_PERCENT` of it). 0 = no budget",
  },
  ANONYMOUS_BUDGET_PERCENT: {
    section: limits,
    schema: integer(0, 100).default(10),
    expected: 'an integer from 0 to 100',
    shownDefault: '`10`',
    meaning:
      'the percentage of `CIRCLE_REQUEST_BUDGET` that callers without credentials may spend together, revocations included (counted in a bucket of their own, on top of the whole): strangers can never spend what authenticated callers need; 0 = no upstream call for them at all',
  },
  MAX_UPSTREAM_CALLS_PER_OPERATION: {
    section: upstream,
    schema: integer(1, 10_000).default(50),
    expected: 'an integer from 1 to 10000',
    shownDefault: '`50`',
    meaning: 'upstream calls one GraphQL operation may make; fields beyond get `RATE_LIMITED` without a call',
  },
  UPSTREAM_CONCURRENCY: {
    section: upstream,
    schema: integer(1, 256).default(8),
    expected: 'an integer from 1 to 256',
    shownDefault: '`8`',
    meaning: 'distinct upstream calls one GraphQL request runs at once',
  },
  UPSTREAM_CONNECTIONS: {
    section: upstream,
    schema: integer(1, 1024).default(64),
    expected: 'an integer from 1 to 1024',
    shownDefault: '`64`',
    meaning:
      "keep-alive sockets to Circle, opened as needed: 64 carry 1280 calls a second at 50 ms, more than a burst of Circle's whole budget needs, so the budget, not the pool, holds calls back; calls beyond wait in the pool's queue, within `UPSTREAM_TIMEOUT_MS`",
  },
  UPSTREAM_TIMEOUT_MS: {
    section: upstream,
    schema: integer(100, 120_000).default(10_000),
    expected: 'an integer from 100 to 120000',
    shownDefault: '`10000`',
    meaning: 'overall deadline of one upstream call, retries and waits included',
  },
  UPSTREAM_CONNECT_TIMEOUT_MS: {
    section: upstream,
    schema: integer(50, 60_000).default(3000),
    expected: 'an integer from 50 to 60000',
    shownDefault: '`3000`',
    meaning: 'time to open a connection to Circle',
  },
  REDIS_URL: {
    section: replicas,
    schema: z.url({ protocol: /^rediss?$/ }).optional(),
    expected: 'a redis:// or rediss:// URL (credentials in it)',
    shownDefault: 'unset (this process only)',
    meaning:
      "Redis the replicas share Circle's budget, the rate limits and refresh flights through (single node; TLS with `rediss://`). Unset: all of it in this process, for one replica",
    secret: true,
    fromFile: true,
  },
  REDIS_TIMEOUT_MS: {
    section: replicas,
    schema: integer(10, 5000).default(250),
    expected: 'an integer from 10 to 5000',
    shownDefault: '`250`',
    meaning:
      'the longest one Redis command may take; past it Redis counts as down and the limits fall back to the per-replica insurance',
  },
  GATEWAY_REPLICAS: {
    section: replicas,
    schema: integer(1, 1000).default(1),
    expected: 'an integer from 1 to 1000',
    shownDefault: '`1`',
    meaning:
      "replicas that may run at once (say the autoscaler's maximum): while Redis is down each keeps 1/N of every limit and of the budget. The replicas Redis last saw count when more",
  },
  TRUSTED_PROXIES: {
    section: replicas,
    schema: trustedProxies,
    expected:
      'a comma-separated list of IP addresses and CIDR ranges, or a hop count from 1 to 16 with the ranges it is taken from (2@10.0.0.0/8)',
    shownDefault: 'unset (no proxy trusted)',
    meaning:
      "the load balancers in front: an anonymous caller is keyed by the client address in `X-Forwarded-For` only when the connection comes from one of these addresses or ranges; with `N@ranges`, the entry N hops from the right, and only from a peer in the ranges (a bare count is refused: it would let a direct client pick its own address); unset: by the connection's address, the header ignored",
  },
  SESSIONS: {
    section: sessions,
    schema: z.enum(['off', 'on', 'required']).default('off'),
    expected: 'off, on or required',
    shownDefault: '`off`',
    meaning:
      '`on`: browsers start a session (`startSession`, member JWT) and then get only access tokens (`sessionToken`, HttpOnly cookie); the refresh token stays on the server. `required`: also, no field hands a member-JWT caller a refresh token (`memberToken` and `CircleMember.token` answer `FORBIDDEN` naming `startSession`). Not with `CORS_ORIGINS=*` (docs/sessions.md)',
  },
  SESSION_COOKIE_NAME: {
    section: sessions,
    schema: z
      .string()
      .regex(/^__Host-[A-Za-z0-9_.-]{1,64}$/)
      .default('__Host-circle-session'),
    expected: 'a cookie name starting with __Host- (letters, digits, _ . -)',
    shownDefault: '`__Host-circle-session`',
    meaning:
      'the session cookie: `HttpOnly; Secure; SameSite=Strict; Path=/`, no `Domain`; its value is an opaque random id (256 bits), never a token',
  },
  SESSION_REFRESH_MARGIN_S: {
    section: sessions,
    schema: integer(0, 3000).default(300),
    expected: "an integer from 0 to 3000 (shorter than Circle's one-hour access tokens)",
    shownDefault: '`300`',
    meaning:
      'an access token with less than this left is refreshed at Circle before `sessionToken` hands it out (one call for all replicas); with more left it is handed out with no upstream call',
  },
  SESSION_IDLE_TIMEOUT_S: {
    section: sessions,
    schema: integer(60, 2_592_000).default(86_400),
    expected: 'an integer from 60 to 2592000',
    shownDefault: '`86400`',
    meaning:
      'a session unused this long ends (on its next touch, or by the sweep), its Circle tokens revoked',
  },
  SESSION_MAX_AGE_S: {
    section: sessions,
    schema: integer(60, 2_592_000).default(604_800),
    expected: 'an integer from 60 to 2592000',
    shownDefault: '`604800`',
    meaning: 'no session lives longer than this, however busy (nor outlives its refresh token)',
  },
  SESSION_SWEEP_INTERVAL_S: {
    section: sessions,
    schema: integer(1, 86_400).default(60),
    expected: 'an integer from 1 to 86400',
    shownDefault: '`60`',
    meaning:
      'how often idle and over-age sessions are looked for, ended and revoked (one replica at a time with `REDIS_URL`)',
  },
  AUDIT_LOG_FILE: {
    section: operations,
    schema: z.string().min(1).optional(),
    expected: 'a file path',
    shownDefault: 'unset (stdout)',
    meaning:
      'where audit events go (token issued, refreshed, revoked, refused), appended as JSON lines, its directory made if missing; a file that cannot be opened stops the start-up; unset: stdout, each line marked `"log":"audit"`',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    section: operations,
    schema: z.url({ protocol: /^https?$/ }).optional(),
    expected: 'an http(s) URL of an OTLP/HTTP collector, such as http://otel-collector:4318',
    shownDefault: 'unset (no traces)',
    meaning:
      "OpenTelemetry traces go there (OTLP/HTTP, `/v1/traces` appended); unset: none, at no cost. The exporter reads the other standard `OTEL_EXPORTER_OTLP_*` variables itself. A caller's W3C `traceparent` is continued",
  },
  OTEL_SERVICE_NAME: {
    section: operations,
    schema: z.string().min(1).default('circle-auth-gateway'),
    expected: 'a service name',
    shownDefault: '`circle-auth-gateway`',
    meaning: "the traces' `service.name`",
  },
  METRICS_HOST: {
    section: operations,
    schema: z.string().default('127.0.0.1'),
    expected: 'a host name or address',
    shownDefault: '`127.0.0.1`',
    meaning:
      'where Prometheus metrics are served (`GET /metrics`), on a listener of their own, never the GraphQL port',
  },
  METRICS_PORT: {
    section: operations,
    schema: z
      .union([z.literal('off'), integer(0, 65535)])
      .default(9464)
      .transform((value) => (value === 'off' ? undefined : value)),
    expected: 'an integer from 0 to 65535, or off',
    shownDefault: '`9464`',
    meaning: 'the metrics port; 0 takes any free port (logged at start), `off` serves no metrics',
  },
} satisfies Record<string, Declaration>;

export type VariableName = keyof typeof variables;

/** The name of the variable that gives `name` as a file. */
export const fileVariable = (name: VariableName) => `${name}_FILE`;

/** Every environment variable read, the `_FILE` forms included: what deployment files may set. */
export function environmentNames(): string[] {
  return (Object.entries(variables) as [VariableName, Declaration][]).flatMap(([name, declared]) =>
    declared.fromFile ? [name, fileVariable(name)] : [name],
  );
}

type SchemaOf<N extends VariableName> = (typeof variables)[N]['schema'] extends (mode: Mode) => infer S
  ? S
  : (typeof variables)[N]['schema'];
export type ValueOf<N extends VariableName> = z.output<SchemaOf<N> & z.ZodType>;

/** The parser of `name` in `mode`. */
export function schemaOf(name: VariableName, mode: Mode): z.ZodType {
  const declared: Declaration['schema'] = variables[name].schema;
  return typeof declared === 'function' ? declared(mode) : declared;
}

/** The README's configuration table, one table per section, rendered from `variables`. */
export function configurationTable(): string {
  const out: string[] = [];
  for (const section of sections) {
    out.push(`**${section}**`, '', '| variable | default | meaning |', '|---|---|---|');
    for (const [name, declared] of Object.entries(variables) as [VariableName, Declaration][]) {
      if (declared.section !== section) continue;
      out.push(`| \`${name}\` | ${declared.shownDefault} | ${declared.meaning} |`);
      if (declared.fromFile) {
        out.push(
          `| \`${fileVariable(name)}\` | unset | a file holding \`${name}\` (a Docker or Kubernetes secret), one trailing newline trimmed; not with \`${name}\` |`,
        );
      }
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
