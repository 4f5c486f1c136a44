import {
  type CircleError,
  errorTraits,
  type InvalidInputError,
  isCircleError,
  type OutcomeCode,
  type RateLimitedError,
} from '../client/errors.js';
import type { RateLimitScope } from './types.js';

/**
 * The expected outcomes a caller sees as typed results (`... on Error { code message }`), and the
 * one place where client errors become them, by the `outcome` column of the client's `errorTraits`.
 * They live below the schema because the loaders and the rate limits return them; the schema only
 * declares their GraphQL types. Messages are ours: no token, email, URL or upstream text.
 */

export const errorCodes = [
  'MEMBER_NOT_FOUND',
  'INVALID_INPUT',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'NO_SESSION',
] as const satisfies readonly (OutcomeCode | 'FORBIDDEN' | 'NO_SESSION')[];
export type ErrorCode = (typeof errorCodes)[number];

/** An expected failure, returned as a typed result rather than thrown as a GraphQL error. */
export abstract class ErrorResult extends Error {
  abstract readonly code: ErrorCode;
}

export class MemberNotFoundResult extends ErrorResult {
  readonly code = 'MEMBER_NOT_FOUND' as const;
  constructor() {
    super('No Circle community member matches that identifier.');
  }
}

export class InvalidInputResult extends ErrorResult {
  readonly code = 'INVALID_INPUT' as const;
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`Invalid ${argument}: ${reason}.`);
  }
}

export class InvalidTokenResult extends ErrorResult {
  readonly code = 'INVALID_TOKEN' as const;
  constructor() {
    super('The token is not valid: unknown, malformed or revoked.');
  }
}

export class TokenExpiredResult extends ErrorResult {
  readonly code = 'TOKEN_EXPIRED' as const;
  constructor() {
    super('The refresh token has expired; get a new member token.');
  }
}

export class ForbiddenResult extends ErrorResult {
  readonly code = 'FORBIDDEN' as const;
  constructor(message = 'You may not get tokens for that member.') {
    super(message);
  }
}

export class RateLimitedResult extends ErrorResult {
  readonly code = 'RATE_LIMITED' as const;
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests to Circle; retry after ${retryAfterSeconds} s.`,
    /** The gateway's limit that refused, for metrics; none when Circle itself answered 429. */
    readonly scope?: RateLimitScope,
  ) {
    super(message);
  }
}

export class UpstreamUnavailableResult extends ErrorResult {
  readonly code = 'UPSTREAM_UNAVAILABLE' as const;
  constructor(message = 'Circle is unavailable right now; try again shortly.') {
    super(message);
  }
}

/** A session operation found no live session: none started, unknown, ended or expired. */
export class NoSessionResult extends ErrorResult {
  readonly code = 'NO_SESSION' as const;
  constructor(message = 'There is no live session: start one with startSession.') {
    super(message);
  }
}

/** Each outcome a client error can have, built from the error. */
const results: Record<OutcomeCode, (error: CircleError) => ErrorResult> = {
  INVALID_INPUT: (error) =>
    new InvalidInputResult((error as InvalidInputError).argument, (error as InvalidInputError).reason),
  MEMBER_NOT_FOUND: () => new MemberNotFoundResult(),
  INVALID_TOKEN: () => new InvalidTokenResult(),
  TOKEN_EXPIRED: () => new TokenExpiredResult(),
  RATE_LIMITED: (error) => new RateLimitedResult((error as RateLimitedError).retryAfterSeconds),
  UPSTREAM_UNAVAILABLE: () => new UpstreamUnavailableResult(),
};

/**
 * The translation point: a client error to its typed result. Anything else, and a client error
 * whose outcome is `null` (an aborted call), is returned unchanged, to be masked as unexpected.
 */
export function toOutcome(error: unknown): unknown {
  if (!isCircleError(error)) return error;
  const outcome = errorTraits[error.code].outcome;
  return outcome === null ? error : results[outcome](error);
}

/**
 * A typed result rebuilt from its code and message, as another replica described it (a refresh
 * flight's outcome, redis/). A code this replica does not know becomes UPSTREAM_UNAVAILABLE.
 */
export function reviveResult(described: {
  code: string;
  message: string;
  argument?: string;
  retryAfterSeconds?: number;
}): ErrorResult {
  switch (described.code) {
    case 'MEMBER_NOT_FOUND':
      return new MemberNotFoundResult();
    case 'INVALID_TOKEN':
      return new InvalidTokenResult();
    case 'TOKEN_EXPIRED':
      return new TokenExpiredResult();
    case 'RATE_LIMITED':
      return new RateLimitedResult(described.retryAfterSeconds ?? 1, described.message);
    case 'INVALID_INPUT':
      return Object.assign(new InvalidInputResult(described.argument ?? 'input', ''), {
        message: described.message,
      });
    default:
      return new UpstreamUnavailableResult();
  }
}
