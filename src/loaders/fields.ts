import type { MemberAPIToken } from '../client/responses.js';
import {
  ErrorResult,
  InvalidTokenResult,
  RateLimitedResult,
  TokenExpiredResult,
} from '../domain/outcomes.js';
import type { TokenOperation } from '../domain/types.js';
import type { Admission } from './admission.js';
import type { LoaderDeps } from './index.js';
import { isLiveAccessTokenShaped, isRefreshTokenShaped, type TokenKind } from './unusable-tokens.js';

/**
 * A request's token-bearing fields: each admitted (the first of a key with a call of its own, a
 * repeat counted for its caller and subject and answered with the first's result), then loaded,
 * then told to the metrics and the audit trail; and the fields answered without a call, about a
 * token Circle cannot know.
 */
export function createFields(deps: LoaderDeps, { admit, refused }: Admission) {
  // The first field of each operation and key in this request, settled when it is admitted; a
  // repeat is counted for its caller and subject, refused when its first was, and makes no call.
  const firsts = new Map<string, Promise<RateLimitedResult | undefined>>();
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

  return { field, unusableAnswer, withoutCall };
}
