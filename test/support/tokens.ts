import { randomBytes } from 'node:crypto';

/**
 * Tokens of Circle's shapes that Circle never issued: the gateway answers tokens of other shapes
 * without a call (loaders/unusable-tokens.ts), so a test that wants a call at Circle sends these.
 */
export function shapedRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** An access token of Circle's shape (unsigned by Circle's key) for member `memberId`, alive for `lifeS`. */
export function shapedAccessToken(memberId = 1, lifeS = 3600): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { community_member_id: memberId, exp: Math.floor(Date.now() / 1000) + lifeS };
  return `${part({ alg: 'HS256' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
}
