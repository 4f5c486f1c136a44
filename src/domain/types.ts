/**
 * The gateway's own vocabulary, defined once and shared by the layers above the client: the
 * schema, the authorization rules, the loaders and the rate limits.
 */

/** How a member is looked up: by Circle community member id, email address or SSO user id. */
export const memberLookups = ['ID', 'EMAIL', 'SSO'] as const;
export type MemberLookup = (typeof memberLookups)[number];

/** The answer to a revoke; as in RFC 7009, an already unusable token is as revoked as a live one. */
export interface TokenRevoked {
  revoked: true;
}

/**
 * Who is asking. Resolved once per request from its headers, before any resolver runs. A request
 * whose only credential is the session cookie is a `session` caller: the session's member when the
 * session lives (its limits, its budget share), else counted as anonymous, by address. `cookie` on a
 * member caller is a session cookie sent with a JWT: only `startSession` takes both (it replaces
 * that session).
 */
export type Caller =
  | { kind: 'anonymous'; key: string }
  | { kind: 'backend'; name: string; key: string }
  | {
      kind: 'member';
      key: string;
      email?: string;
      ssoId?: string;
      memberId?: number;
      cookie?: SessionCookie;
    }
  | { kind: 'session'; key: string; cookie: SessionCookie };

/** The credentials a caller may present, as refusals name them (audit `auth.refused`). */
export type CredentialKind = 'api_key' | 'bearer' | 'cookie';

/** A session cookie as authentication read it: the session's id (a keyed hash of the value), and what the store said. */
export interface SessionCookie {
  id: string;
  /** The session's record when it lives; `undefined` when there is none; `unavailable` when the store did not answer. */
  session: SessionState;
}

/** What the store said of a session when the request was authenticated (sessions/). */
export type SessionState =
  | {
      memberId: number;
      communityId: number /** The key the member's JWT was counted under. */;
      callerKey: string;
    }
  | undefined
  | 'unavailable';

/** The token operations, as metrics and the audit trail name them. */
export type TokenOperation = 'issue' | 'refresh' | 'revoke_refresh' | 'revoke_access';

/** Which limit refused a field: the caller's, the member's, Circle's budget, or the operation's cap. */
export type RateLimitScope = 'caller' | 'member' | 'budget' | 'anonymous_budget' | 'operation_cap';

/**
 * Where the rate limits and the budget are counted: this process only (no Redis configured), in
 * Redis shared by the replicas, or this replica's insurance share while Redis is unreachable.
 */
export const sharingStates = ['memory', 'shared', 'insurance'] as const;
export type SharingState = (typeof sharingStates)[number];

/** Why a field made no upstream call of its own. */
export type SavedCallReason =
  | 'same_request'
  | 'single_flight'
  | 'unusable_token'
  /** A member token joined a mint in flight for the same caller and member. */
  | 'coalesced_mint'
  /** `sessionToken` handed out the stored access token. */
  | 'session';

/**
 * Sees what the gateway does with token operations, for metrics. It never changes an outcome, and
 * is told codes and names only: never a token, key, email, member id or caller key.
 */
export interface GatewayObserver {
  /** A token-bearing field resolved: `ok`, or the result's code. */
  tokenOperation(operation: TokenOperation, outcome: string): void;
  rateLimited(scope: RateLimitScope): void;
  upstreamCallSaved(reason: SavedCallReason): void;
  /** A session started, or ended and why. */
  session(event: 'started' | 'ended', reason?: string): void;
  /** A credential refused before anything ran: its kind and why. */
  authRefused(credential: CredentialKind, reason: string): void;
}

/** What the gateway reads of a request's headers: a Fetch `Headers`, or the hot path's view of node's. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * An HTTP request as the per-request records (request id, caller, trace, access log) know it:
 * yoga's Fetch `Request`, or the hot path's lighter view of a node:http request.
 */
export interface RequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderReader;
}

/** A GraphQL operation's type, `unknown` before the document is known. */
export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

/** Where a result's errors came from. */
export type ErrorPhase = 'parse' | 'validate' | 'context' | 'execute';

/**
 * Sees GraphQL requests, for metrics: operation types, HTTP methods and statuses, error phases and
 * durations; never a document, an operation name or a variable.
 */
export interface GraphQLObserver {
  /** An operation began executing. */
  executed(operationType: OperationType): void;
  /** A result with errors was answered; the phase they came from. */
  errorResult(operationType: OperationType, phase: ErrorPhase): void;
  /** A GraphQL request was answered, after `seconds`. */
  answered(operationType: OperationType, method: string, status: number, seconds: number): void;
  /** A POST the hot path read: `served` there, or `handed_over` to yoga (hot-path/). */
  hotPath(outcome: 'served' | 'handed_over'): void;
}

/**
 * Refresh flights that span replicas (redis/flights.ts): the rate limits' `admit` says whether a
 * field leads a flight or joins one another replica leads; the leader publishes its outcome, and
 * the followers read it. Outcomes travel as text the loaders encode; the store seals them.
 */
export interface SharedFlights {
  /** The flight key of a refresh token: a keyed hash, never the token. */
  key(token: string): string;
  /** How long a leader holds its flight before it lapses (the upstream deadline and a margin). */
  readonly holdMs: number;
  /** The leader's outcome once published; `undefined` when none comes within the upstream deadline. */
  wait(key: string): Promise<string | undefined>;
  /** Hands the leader's outcome to the followers, and ends the flight. Never throws. */
  publish(key: string, outcome: string): Promise<void>;
}
