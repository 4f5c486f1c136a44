import { type Context as TraceContext, context as traceContexts } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import type { CircleApi } from '../client/endpoints.js';
import { type CircleError, isCircleError, traitsOf } from '../client/errors.js';
import type { MemberAPIToken, RefreshedAccessToken } from '../client/responses.js';
import { RateLimitedResult, toOutcome } from '../domain/outcomes.js';
import type {
  GatewayObserver,
  MemberLookup,
  SharedFlights,
  TokenOperation,
  TokenRevoked,
} from '../domain/types.js';
import type { RateLimits } from '../rate-limits/index.js';
import { createAdmission } from './admission.js';
import { createFields } from './fields.js';
import { memberCacheKey, subjectKey } from './keys.js';
import { limiter } from './limiter.js';
import { createMint } from './mint.js';
import { createRefresh } from './refresh.js';
import type { SingleFlight } from './single-flight.js';
import type { TokenKind, UnusableTokens } from './unusable-tokens.js';

/** What the loaders resolve to, as Circle sent it (snake_case): the schema's object types expose these. */
export type { MemberAPIToken, RefreshedAccessToken };

/** What the loaders of every request share: the client, bounds, and the cross-request refresh flights. */
export interface LoaderDeps {
  api: CircleApi;
  /** Distinct upstream calls of one request in flight at once. */
  concurrency: number;
  /** Upstream calls one GraphQL operation may make; keys beyond get RATE_LIMITED without a call. */
  maxCallsPerOperation: number;
  refreshFlights: SingleFlight<RefreshedAccessToken | Error>;
  /** Mints in flight in this process, by caller and member: shared by all requests. */
  mintFlights: SingleFlight<MemberAPIToken | Error>;
  /** Refresh flights across replicas (Redis); without them, flights join within this process only. */
  sharedFlights?: SharedFlights;
  /** Rate limits shared across requests, and the key of the caller they are counted for. */
  rateLimits: RateLimits;
  callerKey: string;
  /** The caller has no credential: held to the anonymous limits and share of the budget. */
  anonymous?: boolean;
  /** Sees every upstream failure (for logs and metrics); never changes the outcome. */
  onUpstreamError?: (error: CircleError) => void;
  /** Sees every field's outcome, limit refusal and saved call (metrics); never changes an outcome. */
  observer?: GatewayObserver;
  /**
   * Sees each field's outcome with its subject, for the audit trail: the identifier or token as
   * given (to be hashed there, never written), and Circle's member id when the answer carried it.
   */
  onOutcome?: (operation: TokenOperation, outcome: string, subject: FieldSubject) => void;
  /**
   * Sees the member-token fields the schema refused in this request, once per code when the
   * request ends (`finish`): one audit event however many representations were refused.
   */
  onRefusals?: (code: RefusalCode, refusal: { fields: number; identifiers: string[] }) => void;
  /** The request's trace context: upstream calls run in it, so their spans are its children. */
  traceContext?: TraceContext;
  /** Tokens Circle recently called unknown, revoked or expired (shared by all requests of the process). */
  unusableTokens?: UnusableTokens;
}

export type RefusalCode = 'FORBIDDEN' | 'UNAUTHENTICATED';

export interface FieldSubject {
  identifier: string;
  memberId?: number;
}

/** What resolvers call: every call is one resolved field, counted against the rate limits first. */
export interface Loaders {
  memberToken(by: MemberLookup, value: string): Promise<MemberAPIToken>;
  refresh(refreshToken: string): Promise<RefreshedAccessToken>;
  revokeRefresh(refreshToken: string): Promise<TokenRevoked>;
  revokeAccess(accessToken: string): Promise<TokenRevoked>;
  /**
   * Tells the loaders that the schema refused member-token fields before loading (metrics, audit),
   * `count` of them for this lookup; each counts against the caller's limit.
   */
  refused(code: RefusalCode, by: MemberLookup, value: string, count?: number): void;
  /** The request is over: reports what was refused (`onRefusals`). */
  finish(): void;
  /** Upstream calls this request has made so far (for the access log). */
  upstreamCalls(): number;
}

/**
 * Runs a revocation at Circle. RFC 7009: a token that is already unusable is as revoked as a live
 * one revoked now (`already`); any other failure is thrown.
 */
async function revokedAtCircle(run: () => Promise<void>): Promise<'revoked' | 'already'> {
  try {
    await run();
    return 'revoked';
  } catch (error) {
    if (traitsOf(error)?.alreadyUnusable !== true) throw error;
    return 'already';
  }
}

/**
 * The gateway's own revocations, for no caller (a session's tokens as it ends, the sweep's
 * included): counted in Circle's budget (revocations are never refused for it), and resolved to
 * whether the token is revoked now, never thrown.
 */
export function gatewayRevocations(api: CircleApi, rateLimits: RateLimits) {
  return async (operation: 'revoke_access' | 'revoke_refresh', token: string): Promise<boolean> => {
    await rateLimits.admit({ operation, callerKey: 'gateway', call: true, maintenance: true });
    const run =
      operation === 'revoke_access'
        ? () => api.revokeAccessToken(token)
        : () => api.revokeRefreshToken(token);
    return revokedAtCircle(run).then(
      () => true,
      () => false,
    );
  };
}

/**
 * Built per request, never shared between requests or callers. Each field is admitted first (the
 * caller's and the subject's limits; Circle's budget when it makes its own call), then loaded.
 * Each batch function returns one value or one Error per key, in the keys' order (DataLoader's
 * contract); distinct keys run concurrently under `concurrency`, and every upstream call is counted
 * against the operation's cap.
 */
export function createLoaders(deps: LoaderDeps): Loaders {
  // Built on first use: most requests need one loader, many (introspection, health) none.
  let limit: ReturnType<typeof limiter> | undefined;
  let made = 0;

  function upstream<T>(call: () => Promise<T>): Promise<T | Error> {
    limit ??= limiter(deps.concurrency);
    made += 1;
    const traced = deps.traceContext;
    return limit(traced ? () => traceContexts.with(traced, call) : call).catch((error: unknown) => {
      if (isCircleError(error)) deps.onUpstreamError?.(error);
      const translated = toOutcome(error);
      return translated instanceof Error ? translated : new Error('Unexpected upstream failure.');
    });
  }

  const admission = createAdmission(deps);
  const { admit, first } = admission;
  const { field, unusableAnswer, withoutCall } = createFields(deps, admission);
  const refreshOnce = createRefresh(deps, admission, upstream);
  const mintOnce = createMint(deps, admission, upstream);

  const batch =
    <K, T>(call: (key: K) => Promise<T>) =>
    (keys: readonly K[]) =>
      Promise.all(keys.map((key) => upstream(() => call(key))));

  const revoke = (kind: TokenKind, run: (token: string) => Promise<void>) =>
    batch<string, TokenRevoked>(async (token) => {
      if ((await revokedAtCircle(() => run(token))) === 'already')
        deps.unusableTokens?.remember(kind, token, 'INVALID_TOKEN');
      return { revoked: true };
    });

  const lazily = <K, T>(make: () => DataLoader<K, T, string>) => {
    let loader: DataLoader<K, T, string> | undefined;
    return () => {
      loader ??= make();
      return loader;
    };
  };
  const refreshRevokes = lazily(
    () =>
      new DataLoader<string, TokenRevoked>(revoke('refresh', (token) => deps.api.revokeRefreshToken(token))),
  );
  const accessRevokes = lazily(
    () =>
      new DataLoader<string, TokenRevoked>(revoke('access', (token) => deps.api.revokeAccessToken(token))),
  );

  const refreshes = new Map<string, Promise<RefreshedAccessToken | Error>>();
  const mints = new Map<string, Promise<MemberAPIToken | Error>>();

  const loaded =
    <K, T>(operation: TokenOperation, loader: () => DataLoader<K, T, string>, cacheKey: (key: K) => string) =>
    (key: K, subject: string) =>
      field(
        operation,
        cacheKey(key),
        subject,
        () => loader().load(key),
        () => first(operation, subject),
      );
  const asIs = (token: string) => token;

  /** The schema's refusals in this request, by code: reported once each when it ends. */
  const refusals = new Map<RefusalCode, { fields: number; identifiers: string[] }>();
  const revokeRefresh = loaded('revoke_refresh', refreshRevokes, asIs);
  const revokeAccess = loaded('revoke_access', accessRevokes, asIs);
  return {
    // Emails differing only in case are one member to the per-member limit. The first field of a
    // lookup in the request leads or joins a mint (mint.ts); its repeats get the same outcome.
    memberToken: (by, value) => {
      const key = memberCacheKey({ by, value });
      const subject = subjectKey({ by, value });
      let outcome: Promise<MemberAPIToken | Error> | undefined;
      return field(
        'issue',
        key,
        subject,
        () => outcome ?? (mints.get(key) as Promise<MemberAPIToken | Error>),
        async () => {
          outcome = mintOnce({ by, value }, subject);
          mints.set(key, outcome);
          const settled = await outcome;
          return settled instanceof RateLimitedResult && settled.scope ? settled : undefined;
        },
      );
    },
    refresh: (token) => {
      const unusable = unusableAnswer('refresh', token);
      if (unusable) return withoutCall<RefreshedAccessToken>('refresh', token, unusable);
      let outcome: Promise<RefreshedAccessToken | Error> | undefined;
      return field(
        'refresh',
        token,
        token,
        () => outcome ?? (refreshes.get(token) as Promise<RefreshedAccessToken | Error>),
        async () => {
          outcome = refreshOnce(token);
          refreshes.set(token, outcome);
          const settled = await outcome;
          return settled instanceof RateLimitedResult && settled.scope ? settled : undefined;
        },
      );
    },
    revokeRefresh: (token) =>
      unusableAnswer('refresh', token)
        ? withoutCall<TokenRevoked>('revoke_refresh', token, { revoked: true })
        : revokeRefresh(token, token),
    revokeAccess: (token) =>
      unusableAnswer('access', token)
        ? withoutCall<TokenRevoked>('revoke_access', token, { revoked: true })
        : revokeAccess(token, token),
    refused: (code, by, value, count = 1) => {
      for (let field = 0; field < count; field += 1) deps.observer?.tokenOperation('issue', code);
      // Counted in one admission (one Redis round trip, not one per representation) whatever room
      // is left, not awaited: the fields are refused already.
      void admit('issue', { call: false, refusedFields: count });
      const refusal = refusals.get(code) ?? { fields: 0, identifiers: [] };
      refusal.fields += count;
      refusal.identifiers.push(subjectKey({ by, value }));
      refusals.set(code, refusal);
    },
    finish: () => {
      for (const [code, refusal] of refusals) deps.onRefusals?.(code, refusal);
      refusals.clear();
    },
    upstreamCalls: () => made,
  };
}
