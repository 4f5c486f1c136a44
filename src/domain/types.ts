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
