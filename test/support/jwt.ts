import { SignJWT } from 'jose';
import type { AuthConfig } from '../../src/config/load.js';

/** Member-JWT settings for tests: an HS256 secret, issuer, audience and the default claim names. */
export const testJwt = {
  secret: 'a-member-jwt-secret-of-at-least-32-chars!',
  issuer: 'https://idp.example.test',
  audience: 'circle-auth-gateway',
  emailClaim: 'email',
  ssoClaim: 'sub',
  memberIdClaim: 'circle_member_id',
  emailVerifiedClaim: 'email_verified',
  emailsAlwaysVerified: false,
  maxAgeS: 86_400,
  clockToleranceS: 60,
} satisfies NonNullable<AuthConfig['jwt']>;

/** A member JWT signed with `testJwt`, valid for five minutes. */
export function signMemberJwt(claims: Record<string, unknown>, subject: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(testJwt.issuer)
    .setAudience(testJwt.audience)
    .setSubject(subject)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(testJwt.secret));
}
