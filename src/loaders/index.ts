import { type Context as TraceContext, context as traceContexts } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import pLimit, { type LimitFunction } from 'p-limit';
import type { CircleApi, MemberIdentifier } from '../client/endpoints.js';
import { type CircleError, isCircleError, traitsOf } from '../client/errors.js';
import type { MemberAPIToken, RefreshedAccessToken } from '../client/responses.js';
import { ErrorResult, RateLimitedResult, toOutcome } from '../domain/outcomes.js';
import type { GatewayObserver, MemberLookup, TokenOperation, TokenRevoked } from '../domain/types.js';
import type { RateLimits } from '../rate-limits/index.js';
import { type SingleFlight, tokenKey } from './single-flight.js';

/** What the loaders resolve to, as Circle sent it (snake_case): the schema's object types expose these. */
export type { MemberAPIToken, RefreshedAccessToken };

/** What the loaders of every request share: the client, bounds, and the cross-request refresh flights. */
export interface LoaderDeps {
  api: CircleApi;
  /** Distinct upstream calls of one request in flight at once. */
  concurrency: number;
  /** Upstream calls one GraphQL operation may make; keys beyond get RATE_LIMITED without a call. */
  maxCallsPerOperation: number;
  refreshFlights: SingleFlight<RefreshedAccessToken>;
  /** Rate limits shared across requests, and the key of the caller they are counted for. */
  rateLimits: RateLimits;
  callerKey: string;
  /** Sees every upstream failure (for logs and metrics); never changes the outcome. */
  onUpstreamError?: (error: CircleError) => void;
  /** Sees every field's outcome, limit refusal and saved call (metrics); never changes an outcome. */
  observer?: GatewayObserver;
  /**
   * Sees each field's outcome with its subject, for the audit trail: the identifier or token as
   * given (to be hashed there, never written), and Circle's member id when the answer carried it.
   */
  onOutcome?: (operation: TokenOperation, outcome: string, subject: FieldSubject) => void;
  /** The request's trace context: upstream calls run in it, so their spans are its children. */
  traceContext?: TraceContext;
}

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
  /** Tells the loaders that the schema refused a member-token field before loading (metrics, audit). */
  refused(code: 'FORBIDDEN' | 'UNAUTHENTICATED', by: MemberLookup, value: string): void;
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

/**
 * Built per request, never shared between requests or callers. Each batch function returns one
 * value or one Error per key, in the keys' order (DataLoader's contract); distinct keys run
 * concurrently under `concurrency`, and every upstream call is counted against the operation's cap.
 */
export function createLoaders(deps: LoaderDeps): Loaders {
  // Built on first use: most requests need one loader, many (introspection, health) none.
  let limit: LimitFunction | undefined;
  let calls = 0;
  let made = 0;

  async function upstream<T>(call: () => Promise<T>): Promise<T | Error> {
    if (calls >= deps.maxCallsPerOperation) {
      deps.observer?.rateLimited('operation_cap');
      return new RateLimitedResult(
        0,
        `This operation needs more than ${deps.maxCallsPerOperation} calls to Circle; split it into smaller operations.`,
        'operation_cap',
      );
    }
    calls += 1;
    const spent = await deps.rateLimits.admitUpstream();
    if (spent) {
      deps.observer?.rateLimited('budget');
      return spent;
    }
    limit ??= pLimit(deps.concurrency);
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

  const revoke = (run: (token: string) => Promise<void>) =>
    batch(async (token: string): Promise<TokenRevoked> => {
      try {
        await run(token);
      } catch (error) {
        // RFC 7009: a token that is already unusable is as revoked as a live one revoked now.
        if (traitsOf(error)?.alreadyUnusable !== true) throw error;
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
  const refreshes = lazily(
    () =>
      new DataLoader(
        batch((token) => deps.refreshFlights.run(tokenKey(token), () => deps.api.refreshAccessToken(token))),
      ),
  );
  const refreshRevokes = lazily(() => new DataLoader(revoke((token) => deps.api.revokeRefreshToken(token))));
  const accessRevokes = lazily(() => new DataLoader(revoke((token) => deps.api.revokeAccessToken(token))));

  // Keys this request has loaded already, per operation: a repeat makes no upstream call.
  const loaded = new Set<string>();

  /** Admits one field (caller and subject limits), then loads. Subjects are hashed: no email or token is kept. */
  async function admitted<T>(
    operation: TokenOperation,
    loader: () => DataLoader<string, T>,
    key: string,
    subject = key,
  ): Promise<T> {
    const observer = deps.observer;
    try {
      const denied = await deps.rateLimits.admitField(deps.callerKey, tokenKey(subject));
      if (denied) {
        if (denied.scope) observer?.rateLimited(denied.scope);
        throw denied;
      }
      if (observer) {
        const seen = `${operation}:${key}`;
        if (loaded.has(seen)) observer.upstreamCallSaved('same_request');
        else loaded.add(seen);
      }
      const result = await loader().load(key);
      observer?.tokenOperation(operation, 'ok');
      const memberId = (result as Partial<MemberAPIToken>).community_member_id;
      deps.onOutcome?.(operation, 'ok', {
        identifier: subject,
        ...(memberId !== undefined ? { memberId } : {}),
      });
      return result;
    } catch (error) {
      const outcome = error instanceof ErrorResult ? error.code : 'unexpected';
      observer?.tokenOperation(operation, outcome);
      deps.onOutcome?.(operation, outcome, { identifier: subject });
      throw error;
    }
  }

  return {
    // Emails differing only in case are one member to the per-member limit.
    memberToken: (by, value) => admitted('issue', memberTokens, memberKey(by, value), subjectKey(by, value)),
    refresh: (token) => admitted('refresh', refreshes, token),
    revokeRefresh: (token) => admitted('revoke_refresh', refreshRevokes, token),
    revokeAccess: (token) => admitted('revoke_access', accessRevokes, token),
    refused: (code, by, value) => {
      deps.observer?.tokenOperation('issue', code);
      deps.onOutcome?.('issue', code, { identifier: subjectKey(by, value) });
    },
    upstreamCalls: () => made,
  };
}
