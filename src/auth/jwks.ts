import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  errors as joseErrors,
} from 'jose';

/** Callers cannot be authenticated right now (the JWKS is unreachable or broken). */
export class AuthUnavailableError extends Error {
  override name = 'AuthUnavailableError';
  constructor(cause?: unknown) {
    super('The member JWT key set could not be fetched or read.', { cause });
  }
}

/** What the key set tells the operator: an outage once when it starts, once when it ends. */
export interface JwksObserver {
  unavailable(reason: string, servingCachedKeys: boolean): void;
  recovered(): void;
}

export interface ResilientJwksOptions {
  observer?: JwksObserver;
  /** The first wait after a failed fetch; doubled per failure up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** jose's fetch timeout. */
  timeoutMs?: number;
  /** How long a fetched key set is used before it is fetched again (jose's default: ten minutes). */
  cacheMaxAgeMs?: number;
  now?: () => number;
}

/** What a key lookup may throw about the token itself, not about the key set's fetch. */
function aboutTheToken(error: unknown): boolean {
  return (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys ||
    error instanceof joseErrors.JOSENotSupported ||
    error instanceof joseErrors.JOSEAlgNotAllowed
  );
}

/**
 * jose's remote key set (fetch, cache, refetch on an unknown `kid` after a cooldown), made to hold
 * through an outage of the identity provider:
 * - every fetch or parse failure (a 500, HTML, a timeout, a refused connection) is an
 *   `AuthUnavailableError`, never a verdict on the token;
 * - the last key set fetched is served while a refresh fails, so members keep signing in;
 * - after a failure no fetch is tried for a while, doubling up to `maxBackoffMs`, so a flood of
 *   forged JWTs cannot turn into a flood of fetches;
 * - an outage is reported once when it starts and once when it ends, not once per request.
 */
export function resilientJwks(url: URL, options: ResilientJwksOptions = {}): JWTVerifyGetKey {
  const now = options.now ?? Date.now;
  const minBackoff = options.minBackoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs ?? 5000,
    ...(options.cacheMaxAgeMs !== undefined ? { cacheMaxAge: options.cacheMaxAgeMs } : {}),
  });
  let lastGood: { jwks: JSONWebKeySet; keys: ReturnType<typeof createLocalJWKSet> } | undefined;
  let failures = 0;
  let retryAt = 0;

  function failed(error: unknown): void {
    failures += 1;
    retryAt = now() + Math.min(maxBackoff, minBackoff * 2 ** (failures - 1));
    if (failures === 1) {
      const reason = error instanceof Error ? error.message : String(error);
      options.observer?.unavailable(reason, lastGood !== undefined);
    }
  }

  function fromCache(...args: Parameters<JWTVerifyGetKey>) {
    if (!lastGood) throw new AuthUnavailableError();
    return lastGood.keys(...args);
  }

  return async (...args) => {
    if (failures > 0 && now() < retryAt) return fromCache(...args);
    let key: Awaited<ReturnType<JWTVerifyGetKey>>;
    try {
      key = await remote(...args);
    } catch (error) {
      if (aboutTheToken(error)) throw error;
      failed(error);
      return fromCache(...args);
    }
    const jwks = remote.jwks();
    if (jwks && jwks !== lastGood?.jwks) lastGood = { jwks, keys: createLocalJWKSet(jwks) };
    if (failures > 0) {
      failures = 0;
      options.observer?.recovered();
    }
    return key;
  };
}
