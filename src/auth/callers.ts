import { hash, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { AuthConfig } from '../config/load.js';
import type { Caller, CredentialKind, HeaderReader, SessionCookie } from '../domain/types.js';
import { addressKey, clientAddress } from './client-address.js';
import { AuthUnavailableError, type JwksObserver, resilientJwks } from './jwks.js';

export { AuthUnavailableError } from './jwks.js';

/** What the audit trail says of a refused credential: its kind and why (never the credential). */
export interface Refusal {
  credential: CredentialKind;
  reason: string;
}

const refusals = new WeakMap<Error, Refusal>();

/** Why a credential was refused, when `error` is such a refusal. */
export function refusalOf(error: unknown): Refusal | undefined {
  return error instanceof Error ? refusals.get(error) : undefined;
}

/**
 * A credential was presented and is not valid: the whole request is refused (401), nothing runs.
 * With `refusal`, the audit trail records it as `auth.refused`.
 */
export function unauthenticated(message: string, refusal?: Refusal): GraphQLError {
  const error = new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'www-authenticate': 'Bearer' } },
    },
  });
  if (refusal) refusals.set(error, refusal);
  return error;
}

const bearer = (reason: string): Refusal => ({ credential: 'bearer', reason });

// One-shot hashing (node:crypto `hash`): half the time of a Hash object, once per request.
const digest = (value: string) => hash('sha256', value, 'buffer');

/** Accepted JWT algorithms: the shared secret is HS256 only; a JWKS may hold RSA, EC or Ed keys. */
const asymmetric = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export type Authenticate = (headers: HeaderReader, remoteAddress: string | undefined) => Promise<Caller>;

/** The authenticator in force, and a way to replace it (`SIGHUP`) without stopping the server. */
export interface CallerAuthentication {
  authenticate: Authenticate;
  /** From now on, requests are authenticated by `config`; those already authenticated are not affected. */
  reload(config: AuthConfig): void;
}

export interface AuthenticatorOptions {
  /** Told when the member JWT key set becomes unreachable, and when it is back (logged once each). */
  jwks?: JwksObserver;
  /** Sessions are on: the cookie's name, and what the store says of a value (sessions/). */
  sessions?: { cookieName: string; read(value: string): Promise<SessionCookie> };
}

/** The value of cookie `name` in a Cookie header, if it is there (the first, as browsers send the most specific first). */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null || !header.includes(name)) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function createCallerAuthentication(
  config: AuthConfig,
  options: AuthenticatorOptions = {},
): CallerAuthentication {
  let current = createAuthenticator(config, options);
  return {
    authenticate: (headers, remoteAddress) => current(headers, remoteAddress),
    reload(next) {
      current = createAuthenticator(next, options);
    },
  };
}

/**
 * Builds the request authenticator. API keys are compared in constant time (SHA-256 digests, so
 * length leaks nothing either); JWTs are verified with jose against the configured issuer and
 * audience, with `alg` pinned (so `alg: none` and HS/RS confusion are refused); a JWT must carry an
 * `exp`, may not be valid for longer than the configured age (from its `iat`, or from now to its
 * `exp`), and may not be issued in the future beyond the clock tolerance. An email counts only when
 * the issuer says it is verified (`true` or `"true"` in the verified claim), or when the deployment
 * says the issuer's emails always are.
 */
export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticate {
  const keys = [...config.apiKeys].map(([name, key]) => ({ name, digest: digest(key) }));
  const jwt = config.jwt;
  const key: Uint8Array | JWTVerifyGetKey | undefined = jwt?.secret
    ? new TextEncoder().encode(jwt.secret)
    : jwt?.jwksUrl
      ? resilientJwks(new URL(jwt.jwksUrl), options.jwks ? { observer: options.jwks } : {})
      : undefined;
  const algorithms = jwt?.secret ? ['HS256'] : asymmetric;

  function backend(presented: string): Caller {
    const offered = digest(presented);
    // Compare against every key, always, so timing does not tell how many keys exist or which matched.
    let match: string | undefined;
    for (const candidate of keys) if (timingSafeEqual(candidate.digest, offered)) match ??= candidate.name;
    if (match === undefined)
      throw unauthenticated('The API key is not valid.', { credential: 'api_key', reason: 'unknown_key' });
    return { kind: 'backend', name: match, key: `key:${match}` };
  }

  async function member(token: string): Promise<Caller> {
    if (!jwt || !key)
      throw unauthenticated('Bearer tokens are not accepted by this gateway.', bearer('not_accepted'));
    let payload: JWTPayload;
    const rules = {
      algorithms,
      issuer: jwt.issuer,
      audience: jwt.audience,
      requiredClaims: ['exp'],
      clockTolerance: jwt.clockToleranceS,
    };
    try {
      const verified =
        key instanceof Uint8Array ? await jwtVerify(token, key, rules) : await jwtVerify(token, key, rules);
      payload = verified.payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw unauthenticated('The bearer token has expired.', bearer('expired'));
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp')
        throw unauthenticated('The bearer token must carry an expiry (exp).', bearer('no_expiry'));
      // The key set could not be fetched or read (jwks.ts): the gateway's fault, not the token's.
      if (error instanceof AuthUnavailableError || !(error instanceof joseErrors.JOSEError)) {
        throw error instanceof AuthUnavailableError ? error : new AuthUnavailableError(error);
      }
      throw unauthenticated('The bearer token is not valid.', bearer(invalidReason(error)));
    }
    const nowS = Date.now() / 1000;
    const { iat, exp } = payload as { iat?: number; exp: number };
    if (iat !== undefined && iat > nowS + jwt.clockToleranceS)
      throw unauthenticated('The bearer token was issued in the future (iat).', bearer('issued_in_future'));
    if ((iat !== undefined && nowS - iat > jwt.maxAgeS) || exp - Math.min(nowS, iat ?? nowS) > jwt.maxAgeS)
      throw unauthenticated(
        `The bearer token lives too long: at most ${jwt.maxAgeS} s from its issue is accepted.`,
        bearer('lives_too_long'),
      );
    const claim = (name: string) => payload[name];
    const email = claim(jwt.emailClaim);
    const ssoId = claim(jwt.ssoClaim);
    const memberId = claim(jwt.memberIdClaim);
    // Fail closed: an email counts only when the issuer says it is verified, in so many words.
    const verified = claim(jwt.emailVerifiedClaim);
    const emailVerified = jwt.emailsAlwaysVerified || verified === true || verified === 'true';
    return {
      kind: 'member',
      key: `jwt:${hash('sha256', `${payload.iss}|${payload.sub}`, 'base64url').slice(0, 22)}`,
      ...(typeof email === 'string' && emailVerified ? { email } : {}),
      ...(typeof ssoId === 'string' && ssoId !== '' ? { ssoId } : {}),
      ...(typeof memberId === 'number' && Number.isSafeInteger(memberId) && memberId > 0
        ? { memberId }
        : typeof memberId === 'string' && /^[1-9]\d{0,15}$/.test(memberId)
          ? { memberId: Number(memberId) }
          : {}),
    };
  }

  const client = clientAddress(config.trustedProxies);
  const sessions = options.sessions;
  return async (headers, remoteAddress) => {
    const cookie = sessions ? cookieValue(headers.get('cookie'), sessions.cookieName) : undefined;
    const apiKey = headers.get('x-api-key');
    if (apiKey !== null) {
      if (cookie !== undefined)
        throw unauthenticated('Send either the session cookie or an API key, not both.', {
          credential: 'cookie',
          reason: 'with_api_key',
        });
      return backend(apiKey);
    }
    const authorization = headers.get('authorization');
    if (authorization !== null) {
      const token = /^Bearer +(\S+)$/i.exec(authorization)?.[1];
      if (!token)
        throw unauthenticated(
          'The Authorization header must be "Bearer <token>".',
          bearer('malformed_header'),
        );
      const caller = await member(token);
      // Only startSession takes both (it replaces that session): the schema refuses the rest.
      return cookie !== undefined && sessions && caller.kind === 'member'
        ? { ...caller, cookie: await sessions.read(cookie) }
        : caller;
    }
    const address = client(remoteAddress, headers.get('x-forwarded-for'));
    if (cookie !== undefined && sessions) {
      const read = await sessions.read(cookie);
      const live = read.session !== undefined && read.session !== 'unavailable';
      return {
        kind: 'session',
        key: live ? (read.session as { callerKey: string }).callerKey : addressKey(address),
        cookie: read,
      };
    }
    return { kind: 'anonymous', key: addressKey(address) };
  };
}

/** Why jose refused a JWT, as the audit trail names it. */
function invalidReason(error: unknown): string {
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'wrong_audience';
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'nbf') return 'not_yet_valid';
    return 'bad_claim';
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  return 'malformed';
}
