import {
  type CircleErrorCode,
  type InvalidInputError,
  isCircleError,
  type RateLimitedError,
} from '../client/errors.js';

/**
 * The expected outcomes a client sees as typed results (`... on Error { code message }`), and the
 * one place where upstream errors become them. Messages are ours: no token, email, URL or upstream
 * text ever reaches a client.
 */

export const errorCodes = [
  'MEMBER_NOT_FOUND',
  'INVALID_INPUT',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export abstract class ResultError extends Error {
  abstract readonly code: ErrorCode;
}

export class MemberNotFound extends ResultError {
  readonly code = 'MEMBER_NOT_FOUND' as const;
  constructor() {
    super('No Circle community member matches that identifier.');
  }
}

export class InvalidInput extends ResultError {
  readonly code = 'INVALID_INPUT' as const;
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`Invalid ${argument}: ${reason}.`);
  }
}

export class InvalidToken extends ResultError {
  readonly code = 'INVALID_TOKEN' as const;
  constructor() {
    super('The token is not valid: unknown, malformed or revoked.');
  }
}

export class TokenExpired extends ResultError {
  readonly code = 'TOKEN_EXPIRED' as const;
  constructor() {
    super('The refresh token has expired; get a new member token.');
  }
}

export class Forbidden extends ResultError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message = 'You may not get tokens for that member.') {
    super(message);
  }
}

export class RateLimited extends ResultError {
  readonly code = 'RATE_LIMITED' as const;
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests to Circle; retry after ${retryAfterSeconds} s.`,
  ) {
    super(message);
  }
}

export class UpstreamUnavailable extends ResultError {
  readonly code = 'UPSTREAM_UNAVAILABLE' as const;
  constructor() {
    super('Circle is unavailable right now; try again shortly.');
  }
}

/** Upstream failures that are the gateway operator's to fix (app token, plan): logged loudly. */
export const configurationFaults: ReadonlySet<CircleErrorCode> = new Set([
  'APP_TOKEN_REJECTED',
  'NOT_ELIGIBLE',
]);

/** Outcomes about the member or its token, not about Circle's health: logged at debug only. */
export const answeredByMember: ReadonlySet<CircleErrorCode> = new Set([
  'MEMBER_NOT_FOUND',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'INVALID_INPUT',
]);

/**
 * Client error code → GraphQL result. Circle's 401/403 for the app token are the gateway's
 * misconfiguration, never the member's fault: they read as UPSTREAM_UNAVAILABLE. `ABORTED` is
 * absent on purpose: a cancelled request has nobody to answer, so it stays an unexpected error.
 */
const table: Record<Exclude<CircleErrorCode, 'ABORTED'>, (error: unknown) => ResultError> = {
  INVALID_INPUT: (error) =>
    new InvalidInput((error as InvalidInputError).argument, (error as InvalidInputError).reason),
  MEMBER_NOT_FOUND: () => new MemberNotFound(),
  INVALID_TOKEN: () => new InvalidToken(),
  TOKEN_EXPIRED: () => new TokenExpired(),
  RATE_LIMITED: (error) => new RateLimited((error as RateLimitedError).retryAfterSeconds),
  APP_TOKEN_REJECTED: () => new UpstreamUnavailable(),
  NOT_ELIGIBLE: () => new UpstreamUnavailable(),
  UPSTREAM_FAILURE: () => new UpstreamUnavailable(),
  UPSTREAM_ERROR: () => new UpstreamUnavailable(),
  UPSTREAM_TIMEOUT: () => new UpstreamUnavailable(),
  UPSTREAM_CONNECTION: () => new UpstreamUnavailable(),
  UPSTREAM_UNAVAILABLE: () => new UpstreamUnavailable(),
  CONTRACT_VIOLATION: () => new UpstreamUnavailable(),
};

/** The translation point: a client error to its typed result; anything else is returned unchanged. */
export function toResultError(error: unknown): unknown {
  if (error instanceof ResultError || !isCircleError(error) || error.code === 'ABORTED') return error;
  return table[error.code](error);
}
