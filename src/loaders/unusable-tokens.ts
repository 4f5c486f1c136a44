import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import { tokenKey } from './single-flight.js';

/**
 * Tokens Circle cannot know, recognised without asking it, so that junk sent by anyone costs no
 * upstream call and none of Circle's budget (upstream/CIRCLE-AUTH-API.md gives the formats):
 * - a refresh token is 43 URL-safe base64 characters (32 random bytes);
 * - an access token is an HS256 JWT whose claims name a Circle member (`community_member_id`, a
 *   positive integer) and carry an `exp` (Unix seconds); once `exp` has passed, it is unusable.
 * The JWT is decoded, not verified (only Circle holds its key): a token that passes is sent to
 * Circle, which decides.
 */
const refreshTokenPattern = /^[A-Za-z0-9_-]{43}$/;

export function isRefreshTokenShaped(token: string): boolean {
  return refreshTokenPattern.test(token);
}

/** Whether `token` could be a live Circle access token at `nowMs`. */
export function isLiveAccessTokenShaped(token: string, nowMs: number): boolean {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    return false;
  }
  const member = claims.community_member_id;
  const exp = claims.exp;
  return (
    typeof member === 'number' &&
    Number.isSafeInteger(member) &&
    member > 0 &&
    typeof exp === 'number' &&
    exp * 1000 > nowMs
  );
}

export type UnusableReason = 'INVALID_TOKEN' | 'TOKEN_EXPIRED';
export type TokenKind = 'refresh' | 'access';

/**
 * What Circle said it does not know (or no longer honours), remembered for a short while by a hash
 * of the token, so that the same junk sent again is answered without a call. Only Circle's own
 * "unknown", "revoked" or "expired" is remembered: states no token leaves. In this process: each
 * replica asks Circle once per token and `ttlMs`.
 */
export class UnusableTokens {
  private readonly known: LRUCache<string, UnusableReason>;

  constructor(options: { max: number; ttlMs: number }) {
    this.known = new LRUCache({ max: options.max, ttl: options.ttlMs });
  }

  get(kind: TokenKind, token: string): UnusableReason | undefined {
    return this.known.get(`${kind}:${tokenKey(token)}`);
  }

  remember(kind: TokenKind, token: string, reason: UnusableReason): void {
    this.known.set(`${kind}:${tokenKey(token)}`, reason);
  }
}

/** How long and how many: a token Circle called unknown is asked about again after five minutes. */
export const unusableTokenLimits = { max: 50_000, ttlMs: 5 * 60_000 };
