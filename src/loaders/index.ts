import DataLoader from 'dataloader';
import pLimit from 'p-limit';
import { type CircleError, isCircleError } from '../client/errors.js';
import type { CircleApi, MemberAPIToken, MemberIdentifier, RefreshedAccessToken } from '../client/index.js';
import { RateLimited, toResultError } from '../schema/results.js';
import { type SingleFlight, tokenKey } from './single-flight.js';

export type MemberLookup = 'ID' | 'EMAIL' | 'SSO';
export interface TokenRevoked {
  revoked: true;
}

/** What the loaders of every request share: the client, bounds, and the cross-request refresh flights. */
export interface LoaderDeps {
  api: CircleApi;
  /** Distinct upstream calls of one request in flight at once. */
  concurrency: number;
  /** Upstream calls one GraphQL operation may make; keys beyond get RATE_LIMITED without a call. */
  maxCallsPerOperation: number;
  refreshFlights: SingleFlight<RefreshedAccessToken>;
  /** Sees every upstream failure (for logs and metrics); never changes the outcome. */
  onUpstreamError?: (error: CircleError) => void;
}

export interface Loaders {
  memberToken: DataLoader<string, MemberAPIToken>;
  refresh: DataLoader<string, RefreshedAccessToken>;
  revokeRefresh: DataLoader<string, TokenRevoked>;
  revokeAccess: DataLoader<string, TokenRevoked>;
}

/** The loader key of a member lookup: one upstream call per distinct key in a request. */
export function memberKey(by: MemberLookup, value: string): string {
  return `${by}:${value}`;
}

function identifier(key: string): MemberIdentifier {
  const split = key.indexOf(':');
  const by = key.slice(0, split) as MemberLookup;
  const value = key.slice(split + 1);
  if (by === 'ID') return { communityMemberId: Number(value) };
  if (by === 'EMAIL') return { email: value };
  return { ssoId: value };
}

/** RFC 7009: a token that is already unusable is as revoked as a live one that we revoke now. */
const alreadyUnusable = new Set(['INVALID_TOKEN', 'TOKEN_EXPIRED']);

/**
 * Built per request, never shared between requests or callers. Each batch function returns one
 * value or one Error per key, in the keys' order (DataLoader's contract); distinct keys run
 * concurrently under `concurrency`, and every upstream call is counted against the operation's cap.
 */
export function createLoaders(deps: LoaderDeps): Loaders {
  const limit = pLimit(deps.concurrency);
  let calls = 0;

  function upstream<T>(call: () => Promise<T>): Promise<T | Error> {
    if (calls >= deps.maxCallsPerOperation) {
      return Promise.resolve(
        new RateLimited(
          0,
          `This operation needs more than ${deps.maxCallsPerOperation} calls to Circle; split it into smaller operations.`,
        ),
      );
    }
    calls += 1;
    return limit(call).catch((error: unknown) => {
      if (isCircleError(error)) deps.onUpstreamError?.(error);
      const translated = toResultError(error);
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
        if (!(isCircleError(error) && alreadyUnusable.has(error.code))) throw error;
      }
      return { revoked: true };
    });

  return {
    memberToken: new DataLoader(batch((key) => deps.api.issueMemberToken(identifier(key)))),
    refresh: new DataLoader(
      batch((token) => deps.refreshFlights.run(tokenKey(token), () => deps.api.refreshAccessToken(token))),
    ),
    revokeRefresh: new DataLoader(revoke((token) => deps.api.revokeRefreshToken(token))),
    revokeAccess: new DataLoader(revoke((token) => deps.api.revokeAccessToken(token))),
  };
}
