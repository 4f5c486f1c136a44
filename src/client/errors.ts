/**
 * Every failure the Circle client can report, one class per cause, each with a stable literal `code`.
 * Callers match on `code`, never on `message` or `instanceof` across package boundaries.
 *
 * Messages are written by us and never contain a token, the app token, an email, the upstream URL
 * or the upstream body. What Circle said is kept apart in `upstreamMessage` (its `message` field,
 * truncated) for operators who choose to log it; the gateway does not.
 */

export type CircleErrorCode =
  | 'INVALID_INPUT'
  | 'MEMBER_NOT_FOUND'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'APP_TOKEN_REJECTED'
  | 'NOT_ELIGIBLE'
  | 'RATE_LIMITED'
  | 'UNPROCESSABLE'
  | 'SERVER_FAULT'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_CONNECTION'
  | 'CIRCUIT_OPEN'
  | 'CONTRACT_VIOLATION'
  | 'ABORTED';

export interface CircleErrorDetails {
  /** HTTP status Circle answered with, when it answered. */
  status?: number;
  /** Circle's own `message` text (at most 200 characters), when it sent one. Not for end users. */
  upstreamMessage?: string;
  cause?: unknown;
}

export abstract class CircleError extends Error {
  abstract readonly code: CircleErrorCode;
  readonly status: number | undefined;
  readonly upstreamMessage: string | undefined;

  constructor(message: string, details: CircleErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.upstreamMessage = details.upstreamMessage?.slice(0, 200);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** An argument was rejected before any network call (or Circle reported a missing parameter). */
export class InvalidInputError extends CircleError {
  readonly code = 'INVALID_INPUT' as const;
  constructor(
    /** The argument at fault, by the name the caller used. */
    readonly argument: string,
    /** What was expected, without the value (e.g. "expected a positive integer"). */
    readonly reason: string,
    details?: CircleErrorDetails,
  ) {
    super(`Invalid ${argument}: ${reason}.`, details);
  }
}

/** `auth_token` 404: no member matches the identifier. */
export class MemberNotFoundError extends CircleError {
  readonly code = 'MEMBER_NOT_FOUND' as const;
  constructor(details?: CircleErrorDetails) {
    super('Circle has no community member with that identifier.', details);
  }
}

/** The member token is unknown, malformed or already revoked. */
export class InvalidTokenError extends CircleError {
  readonly code = 'INVALID_TOKEN' as const;
  constructor(kind: TokenKind, details?: CircleErrorDetails) {
    super(`The ${kind} token is not valid (unknown, malformed or revoked).`, details);
  }
}

/** The member token has expired. */
export class TokenExpiredError extends CircleError {
  readonly code = 'TOKEN_EXPIRED' as const;
  constructor(kind: TokenKind, details?: CircleErrorDetails) {
    super(`The ${kind} token has expired.`, details);
  }
}

/** Circle's 401 for the app token: missing, wrong or revoked. A configuration fault, not the member's. */
export class AppTokenRejectedError extends CircleError {
  readonly code = 'APP_TOKEN_REJECTED' as const;
  constructor(details?: CircleErrorDetails) {
    super('Circle rejected the app token (401).', details);
  }
}

/** Circle's 403: the community has no headless access, or the token is not a Headless Auth token. */
export class NotEligibleError extends CircleError {
  readonly code = 'NOT_ELIGIBLE' as const;
  constructor(details?: CircleErrorDetails) {
    super('Circle refused the app token: no headless access, or not a Headless Auth token (403).', details);
  }
}

/** Circle answered 429, or the client is still backing off from an earlier 429. */
export class RateLimitedError extends CircleError {
  readonly code = 'RATE_LIMITED' as const;
  constructor(
    /** Seconds to wait before trying again. */
    readonly retryAfterSeconds: number,
    details?: CircleErrorDetails,
  ) {
    super(`Circle's rate limit was reached; retry after ${retryAfterSeconds} s.`, details);
  }
}

/** Circle answered 422 on an operation it could not complete (token record, JWT encoding, revocation). */
export class UnprocessableError extends CircleError {
  readonly code = 'UNPROCESSABLE' as const;
  constructor(details?: CircleErrorDetails) {
    super('Circle could not complete the operation (422).', details);
  }
}

/** Circle answered with a 5xx error body. */
export class ServerFaultError extends CircleError {
  readonly code = 'SERVER_FAULT' as const;
  constructor(details: CircleErrorDetails & { status: number }) {
    super(`Circle answered with a server error (${details.status}).`, details);
  }
}

/** No complete answer within the connect, headers, body or overall deadline. */
export class UpstreamTimeoutError extends CircleError {
  readonly code = 'UPSTREAM_TIMEOUT' as const;
  constructor(
    /** True when the time ran out while connecting, so the request cannot have reached Circle. */
    readonly beforeSend: boolean,
    details?: CircleErrorDetails,
  ) {
    super('Circle did not answer in time.', details);
  }
}

/** The connection failed: refused, reset, DNS, TLS. */
export class UpstreamConnectionError extends CircleError {
  readonly code = 'UPSTREAM_CONNECTION' as const;
  constructor(
    /** True when the request cannot have reached Circle (connect phase), so any call may be retried. */
    readonly beforeSend: boolean,
    details?: CircleErrorDetails,
  ) {
    super('Could not connect to Circle.', details);
  }
}

/** The circuit breaker is open (most recent calls failed): failing fast, nothing was sent. */
export class CircuitOpenError extends CircleError {
  readonly code = 'CIRCUIT_OPEN' as const;
  constructor(details?: CircleErrorDetails) {
    super('Circle is unavailable (circuit open: most recent calls failed); failing fast.', details);
  }
}

/** Circle's answer does not match its documented contract (status, JSON, field types). */
export class ContractViolationError extends CircleError {
  readonly code = 'CONTRACT_VIOLATION' as const;
  constructor(reason: string, details?: CircleErrorDetails) {
    super(`Circle's answer broke the API contract: ${reason}.`, details);
  }
}

/** The caller's own AbortSignal fired. */
export class AbortedError extends CircleError {
  readonly code = 'ABORTED' as const;
  constructor(details?: CircleErrorDetails) {
    super('The call was aborted by the caller.', details);
  }
}

export type TokenKind = 'access' | 'refresh';

export function isCircleError(value: unknown): value is CircleError {
  return value instanceof CircleError;
}

/**
 * What the gateway answers a caller for a client error: a code of its GraphQL `ErrorCode` enum.
 * Declared here, beside the table, so the client stays free of GraphQL: the gateway's outcome
 * module maps each of these to its typed result.
 */
export type OutcomeCode =
  | 'INVALID_INPUT'
  | 'MEMBER_NOT_FOUND'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE';

/** What one error code means to everyone who handles it. */
export interface CodeTraits {
  /**
   * Retried in every retry class when the error shows the request never left this process (its
   * `beforeSend` is true: refused, DNS, connect timeout): Circle cannot have acted.
   */
  retryBeforeSend: boolean;
  /**
   * Retried once the request may have reached Circle: `'no'`; `'retry-after'` (any class, after
   * waiting out a short `Retry-After`: a 429 means Circle did not act); `'duplicate-tolerant'` or
   * `'duplicate-tolerant-5xx'` (only the classes where a duplicate is harmless, refresh and revoke;
   * the second only when Circle answered with a 5xx status).
   */
  retryAfterSend: 'no' | 'retry-after' | 'duplicate-tolerant' | 'duplicate-tolerant-5xx';
  /** Counts towards the circuit breaker: it says something about Circle's health. */
  breaker: boolean;
  /** On a revoke, the token was already unusable (unknown, expired, revoked): RFC 7009 calls that revoked. */
  alreadyUnusable: boolean;
  /** Log level in the gateway: debug, the member's own outcome; warn, Circle's health; error, the operator's configuration. */
  logLevel: 'debug' | 'warn' | 'error';
  /** The GraphQL result it becomes; `null` when nobody is left to answer (masked as unexpected). */
  outcome: OutcomeCode | null;
}

function row(
  retryBeforeSend: boolean,
  retryAfterSend: CodeTraits['retryAfterSend'],
  breaker: boolean,
  alreadyUnusable: boolean,
  logLevel: CodeTraits['logLevel'],
  outcome: OutcomeCode | null,
): CodeTraits {
  return { retryBeforeSend, retryAfterSend, breaker, alreadyUnusable, logLevel, outcome };
}

/**
 * The one table of what each client error code means: the retry policy, the breaker, the gateway's
 * revokes, its logs and its GraphQL results all read it, and nothing else decides these things.
 * Circle's 401/403 for the app token are the operator's misconfiguration, never the member's fault:
 * they read as UPSTREAM_UNAVAILABLE to callers and are logged at error. An HTML 502 page from a
 * proxy is a broken contract and a server fault at once, hence the 5xx rule. An aborted call has
 * nobody to answer: it stays an unexpected error.
 */
// biome-ignore format: one row per code, aligned as the table it is
export const errorTraits: Readonly<Record<CircleErrorCode, CodeTraits>> = {
  //                   retry before send, retry after send,        breaker, already unusable, log,    outcome
  INVALID_INPUT:       row(false, 'no',                            false,   false,            'debug', 'INVALID_INPUT'),
  MEMBER_NOT_FOUND:    row(false, 'no',                            false,   false,            'debug', 'MEMBER_NOT_FOUND'),
  INVALID_TOKEN:       row(false, 'no',                            false,   true,             'debug', 'INVALID_TOKEN'),
  TOKEN_EXPIRED:       row(false, 'no',                            false,   true,             'debug', 'TOKEN_EXPIRED'),
  APP_TOKEN_REJECTED:  row(false, 'no',                            false,   false,            'error', 'UPSTREAM_UNAVAILABLE'),
  NOT_ELIGIBLE:        row(false, 'no',                            false,   false,            'error', 'UPSTREAM_UNAVAILABLE'),
  RATE_LIMITED:        row(false, 'retry-after',                   false,   false,            'warn',  'RATE_LIMITED'),
  UNPROCESSABLE:       row(false, 'no',                            false,   false,            'warn',  'UPSTREAM_UNAVAILABLE'),
  SERVER_FAULT:        row(false, 'duplicate-tolerant',            true,    false,            'warn',  'UPSTREAM_UNAVAILABLE'),
  UPSTREAM_TIMEOUT:    row(true,  'duplicate-tolerant',            true,    false,            'warn',  'UPSTREAM_UNAVAILABLE'),
  UPSTREAM_CONNECTION: row(true,  'duplicate-tolerant',            true,    false,            'warn',  'UPSTREAM_UNAVAILABLE'),
  CONTRACT_VIOLATION:  row(false, 'duplicate-tolerant-5xx',        true,    false,            'warn',  'UPSTREAM_UNAVAILABLE'),
  CIRCUIT_OPEN:        row(false, 'no',                            false,   false,            'warn',  'UPSTREAM_UNAVAILABLE'),
  ABORTED:             row(false, 'no',                            false,   false,            'warn',  null),
};

/** The traits of `error`'s code, or undefined for anything that is not a client error. */
export function traitsOf(error: unknown): CodeTraits | undefined {
  return isCircleError(error) ? errorTraits[error.code] : undefined;
}
