import { type Context as TraceContext, context as traceContexts } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import type { CircleApi, MemberIdentifier } from '../client/endpoints.js';
import { type CircleError, isCircleError, traitsOf } from '../client/errors.js';
import type { MemberAPIToken, RefreshedAccessToken } from '../client/responses.js';
import {
  ErrorResult,
  InvalidInputResult,
  InvalidTokenResult,
  RateLimitedResult,
  reviveResult,
  TokenExpiredResult,
  toOutcome,
  UpstreamUnavailableResult,
} from '../domain/outcomes.js';
import type {
  GatewayObserver,
  MemberLookup,
  SharedFlights,
  TokenOperation,
  TokenRevoked,
} from '../domain/types.js';
import type { RateLimits } from '../rate-limits/index.js';
import { FlightAbandoned, type SingleFlight, tokenKey } from './single-flight.js';
import {
  isLiveAccessTokenShaped,
  isRefreshTokenShaped,
  type TokenKind,
  type UnusableTokens,
} from './unusable-tokens.js';

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

/** The loader key of a member lookup: one upstream call per distinct key in a request. */
function memberKey(by: MemberLookup, value: string): string {
  return `${by}:${value}`;
}

/** A member as the limits and the audit trail count it: emails differing only in case are one member. */
function subjectKey(by: MemberLookup, value: string): string {
  return memberKey(by, by === 'EMAIL' ? value.toLowerCase() : value);
}

function identifier(key: string): MemberIdentifier {
  const split = key.indexOf(':');
  const by = key.slice(0, split) as MemberLookup;
  const value = key.slice(split + 1);
  if (by === 'ID') return { communityMemberId: Number(value) };
  if (by === 'EMAIL') return { email: value };
  return { ssoId: value };
}

/** A refresh outcome as it travels between replicas: the token, or the typed result every follower gets too. */
function encodeOutcome(outcome: RefreshedAccessToken | Error): string {
  if (!(outcome instanceof Error)) return JSON.stringify({ ok: outcome });
  return JSON.stringify({
    error:
      outcome instanceof ErrorResult
        ? { code: outcome.code, message: outcome.message, ...detailsOf(outcome) }
        : { code: 'UPSTREAM_UNAVAILABLE', message: '' },
  });
}

function detailsOf(result: ErrorResult): { retryAfterSeconds?: number; argument?: string } {
  if (result instanceof RateLimitedResult) return { retryAfterSeconds: result.retryAfterSeconds };
  if (result instanceof InvalidInputResult) return { argument: result.argument };
  return {};
}

function decodeOutcome(text: string | undefined): RefreshedAccessToken | Error {
  if (text === undefined) return new UpstreamUnavailableResult();
  const parsed = JSON.parse(text) as
    | { ok: RefreshedAccessToken }
    | { error: { code: string; message: string; argument?: string; retryAfterSeconds?: number } };
  return 'ok' in parsed ? parsed.ok : reviveResult(parsed.error);
}

/**
 * Runs at most `concurrency` calls at once; the others wait their turn, in order. A finished call
 * hands its slot straight to the next, so a call arriving meanwhile cannot take it. What p-limit did,
 * without its queue and promises per call: most requests make one call (bench/README.md).
 */
function limiter(concurrency: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return async <T>(call: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      release();
    }
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
  let calls = 0;
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

  const batch =
    <T>(call: (key: string) => Promise<T>) =>
    (keys: readonly string[]) =>
      Promise.all(keys.map((key) => upstream(() => call(key))));

  const revoke = (kind: TokenKind, run: (token: string) => Promise<void>) =>
    batch(async (token: string): Promise<TokenRevoked> => {
      try {
        await run(token);
      } catch (error) {
        // RFC 7009: a token that is already unusable is as revoked as a live one revoked now.
        if (traitsOf(error)?.alreadyUnusable !== true) throw error;
        deps.unusableTokens?.remember(kind, token, 'INVALID_TOKEN');
      }
      return { revoked: true };
    });

  const lazily = <T>(make: () => DataLoader<string, T>) => {
    let loader: DataLoader<string, T> | undefined;
    return () => {
      loader ??= make();
      return loader;
    };
  };
  const memberTokens = lazily(
    () => new DataLoader(batch((key) => deps.api.issueMemberToken(identifier(key)))),
  );
  const refreshRevokes = lazily(
    () => new DataLoader(revoke('refresh', (token) => deps.api.revokeRefreshToken(token))),
  );
  const accessRevokes = lazily(
    () => new DataLoader(revoke('access', (token) => deps.api.revokeAccessToken(token))),
  );

  /** A field's admission; without a subject, the caller's limit alone (a token Circle cannot know). */
  const admit = (
    operation: TokenOperation,
    {
      subject,
      call,
      flight,
      refusedFields,
    }: {
      /** Counted for this subject too; none for a token Circle cannot know. */
      subject?: string | undefined;
      /** The field makes an upstream call of its own: Circle's budget counts it. */
      call: boolean;
      /** The refresh flight it may lead or join across replicas. */
      flight?: string | undefined;
      /** How many refused fields this admission counts at once. */
      refusedFields?: number;
    },
  ) =>
    deps.rateLimits.admit({
      ...(refusedFields !== undefined ? { refusedFields } : {}),
      operation,
      callerKey: deps.callerKey,
      ...(deps.anonymous ? { anonymous: true } : {}),
      ...(subject !== undefined ? { subjectKey: tokenKey(subject) } : {}),
      call,
      ...(flight && deps.sharedFlights ? { flight: { key: flight, ttlMs: deps.sharedFlights.holdMs } } : {}),
    });

  /** A limit's refusal, told to the metrics once per field. */
  function refused(result: RateLimitedResult): RateLimitedResult {
    if (result.scope) deps.observer?.rateLimited(result.scope);
    return result;
  }

  /** The operation's cap, checked for each field that would make a call of its own. */
  function capped(): RateLimitedResult | undefined {
    if (calls < deps.maxCallsPerOperation) {
      calls += 1;
      return undefined;
    }
    return new RateLimitedResult(
      0,
      `This operation needs more than ${deps.maxCallsPerOperation} calls to Circle; split it into smaller operations.`,
      'operation_cap',
    );
  }

  /**
   * A refresh: joins a flight of the same token in this process (claimed at once, before its
   * admission, so concurrent requests see it), else joins one another replica leads (Redis), else
   * leads: only the leader spends budget and calls Circle. A follower whose leader was refused
   * starts over, as a leader.
   */
  async function refreshOnce(token: string): Promise<RefreshedAccessToken | Error> {
    const key = tokenKey(token);
    const running = deps.refreshFlights.join(key);
    if (running) {
      const verdict = await admit('refresh', { subject: token, call: false });
      if (verdict instanceof RateLimitedResult) return refused(verdict);
      const outcome = await running;
      return outcome instanceof FlightAbandoned ? refreshOnce(token) : outcome;
    }
    const claim = deps.refreshFlights.claim(key);
    const cap = capped();
    if (cap) {
      claim.abandon(new FlightAbandoned());
      return refused(cap);
    }
    const shared = deps.sharedFlights;
    const flightKey = shared?.key(token);
    const verdict = await admit('refresh', { subject: token, call: true, flight: flightKey });
    if (verdict instanceof RateLimitedResult) {
      claim.abandon(new FlightAbandoned());
      return refused(verdict);
    }
    if (verdict === 'join' && shared && flightKey) {
      deps.observer?.upstreamCallSaved('single_flight');
      return claim.run(() =>
        shared
          .wait(flightKey)
          .then(decodeOutcome)
          .catch(() => new UpstreamUnavailableResult()),
      );
    }
    const flight = claim.run(() =>
      upstream(() => deps.api.refreshAccessToken(token)).then((outcome) => {
        if (outcome instanceof InvalidTokenResult || outcome instanceof TokenExpiredResult)
          deps.unusableTokens?.remember('refresh', token, outcome.code);
        return outcome;
      }),
    );
    if (shared && flightKey) void flight.then((outcome) => shared.publish(flightKey, encodeOutcome(outcome)));
    return flight;
  }

  // The first field of each operation and key in this request, settled when it is admitted; a
  // repeat is counted for its caller and subject, refused when its first was, and makes no call.
  const firsts = new Map<string, Promise<RateLimitedResult | undefined>>();
  const refreshes = new Map<string, Promise<RefreshedAccessToken | Error>>();

  /** The admission of the first field of a key: the cap, then the limits and the budget. */
  async function first(operation: TokenOperation, subject: string) {
    const cap = capped();
    if (cap) return refused(cap);
    const verdict = await admit(operation, { subject, call: true });
    return verdict instanceof RateLimitedResult ? refused(verdict) : undefined;
  }

  /**
   * Admits one field, then loads. Subjects are hashed: no email or token is kept. A field about a
   * token Circle cannot know (`unusable`) is counted for its caller only, and not audited: nothing
   * was issued, refreshed or revoked.
   */
  async function field<T>(
    operation: TokenOperation,
    key: string,
    subject: string,
    load: () => Promise<T | Error>,
    admitFirst: () => Promise<RateLimitedResult | undefined>,
    { unusable }: { unusable: boolean } = { unusable: false },
  ): Promise<T> {
    const observer = deps.observer;
    try {
      const seen = `${operation}:${key}`;
      const earlier = firsts.get(seen);
      if (earlier) {
        // Admitted now, awaited after, so that fields are counted in their order.
        const admission = admit(operation, { subject: unusable ? undefined : subject, call: false });
        const firstRefusal = await earlier;
        const verdict = await admission;
        if (firstRefusal) throw refused(firstRefusal);
        if (verdict instanceof RateLimitedResult) throw refused(verdict);
        observer?.upstreamCallSaved('same_request');
      } else {
        const admission = admitFirst();
        firsts.set(seen, admission);
        const refusal = await admission;
        if (refusal) throw refusal;
      }
      const result = await load();
      if (result instanceof Error) throw result;
      observer?.tokenOperation(operation, 'ok');
      if (unusable) return result;
      const memberId = (result as Partial<MemberAPIToken>).community_member_id;
      deps.onOutcome?.(operation, 'ok', {
        identifier: subject,
        ...(memberId !== undefined ? { memberId } : {}),
      });
      return result;
    } catch (error) {
      const outcome = error instanceof ErrorResult ? error.code : 'unexpected';
      observer?.tokenOperation(operation, outcome);
      if (!unusable) deps.onOutcome?.(operation, outcome, { identifier: subject });
      throw error;
    }
  }

  const loaded =
    <T>(operation: TokenOperation, loader: () => DataLoader<string, T>) =>
    (key: string, subject = key) =>
      field(
        operation,
        key,
        subject,
        () => loader().load(key),
        () => first(operation, subject),
      );

  /**
   * The answer for a token Circle cannot know, or recently said it does not: junk never reaches
   * Circle (a refresh is INVALID_TOKEN or TOKEN_EXPIRED, a revocation RFC 7009's `revoked: true`).
   */
  function unusableAnswer(
    kind: TokenKind,
    token: string,
  ): InvalidTokenResult | TokenExpiredResult | undefined {
    const shaped =
      kind === 'refresh' ? isRefreshTokenShaped(token) : isLiveAccessTokenShaped(token, Date.now());
    const known = shaped ? deps.unusableTokens?.get(kind, token) : 'INVALID_TOKEN';
    if (known === undefined) return undefined;
    return known === 'TOKEN_EXPIRED' ? new TokenExpiredResult() : new InvalidTokenResult();
  }

  /** A field answered without a call: counted against the caller's limit alone. */
  function withoutCall<T>(operation: TokenOperation, token: string, answer: T | Error): Promise<T> {
    deps.observer?.upstreamCallSaved('unusable_token');
    return field(
      operation,
      token,
      token,
      async () => answer,
      async () => {
        const verdict = await admit(operation, { call: false });
        return verdict instanceof RateLimitedResult ? refused(verdict) : undefined;
      },
      { unusable: true },
    );
  }

  /** The schema's refusals in this request, by code: reported once each when it ends. */
  const refusals = new Map<RefusalCode, { fields: number; identifiers: string[] }>();
  const memberToken = loaded('issue', memberTokens);
  const revokeRefresh = loaded('revoke_refresh', refreshRevokes);
  const revokeAccess = loaded('revoke_access', accessRevokes);
  return {
    // Emails differing only in case are one member to the per-member limit.
    memberToken: (by, value) => memberToken(memberKey(by, value), subjectKey(by, value)),
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
        : revokeRefresh(token),
    revokeAccess: (token) =>
      unusableAnswer('access', token)
        ? withoutCall<TokenRevoked>('revoke_access', token, { revoked: true })
        : revokeAccess(token),
    refused: (code, by, value, count = 1) => {
      for (let field = 0; field < count; field += 1) deps.observer?.tokenOperation('issue', code);
      // Counted in one admission (one Redis round trip, not one per representation) whatever room
      // is left, not awaited: the fields are refused already.
      void admit('issue', { call: false, refusedFields: count });
      const refusal = refusals.get(code) ?? { fields: 0, identifiers: [] };
      refusal.fields += count;
      refusal.identifiers.push(subjectKey(by, value));
      refusals.set(code, refusal);
    },
    finish: () => {
      for (const [code, refusal] of refusals) deps.onRefusals?.(code, refusal);
      refusals.clear();
    },
    upstreamCalls: () => made,
  };
}
