/**
 * The gateway's own vocabulary, defined once and shared by the layers above the client: the
 * schema, the authorization rules, the loaders and the rate limits.
 */

/** How a member is looked up: by Circle community member id, email address or SSO user id. */
export type MemberLookup = 'ID' | 'EMAIL' | 'SSO';

/** The answer to a revoke; as in RFC 7009, an already unusable token is as revoked as a live one. */
export interface TokenRevoked {
  revoked: true;
}

/** Who is asking. Resolved once per request from its headers, before any resolver runs. */
export type Caller =
  | { kind: 'anonymous'; key: string }
  | { kind: 'backend'; name: string; key: string }
  | { kind: 'member'; key: string; email?: string; ssoId?: string; memberId?: number };

/** The token operations, as metrics and the audit trail name them. */
export type TokenOperation = 'issue' | 'refresh' | 'revoke_refresh' | 'revoke_access';

/** Which limit refused a field: the caller's, the member's, Circle's budget, or the operation's cap. */
export type RateLimitScope = 'caller' | 'member' | 'budget' | 'operation_cap';

/**
 * Where the rate limits and the budget are counted: this process only (no Redis configured), in
 * Redis shared by the replicas, or this replica's insurance share while Redis is unreachable.
 */
export const sharingStates = ['memory', 'shared', 'insurance'] as const;
export type SharingState = (typeof sharingStates)[number];

/** Why a field made no upstream call of its own. */
export type SavedCallReason = 'same_request' | 'single_flight';

/**
 * Sees what the gateway does with token operations, for metrics. It never changes an outcome, and
 * is told codes and names only: never a token, key, email, member id or caller key.
 */
export interface GatewayObserver {
  /** A token-bearing field resolved: `ok`, or the result's code. */
  tokenOperation(operation: TokenOperation, outcome: string): void;
  rateLimited(scope: RateLimitScope): void;
  upstreamCallSaved(reason: SavedCallReason): void;
}
