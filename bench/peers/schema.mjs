// The slice of the gateway's schema the bench's one operation touches, for the peers: the same
// document runs unchanged on every server. Upstream failures become `UpstreamUnavailable`, as in
// the gateway (the bench counts any non-token answer as an error).
export const typeDefs = /* GraphQL */ `
  scalar DateTime
  enum MemberLookup { ID EMAIL SSO_ID }
  enum ErrorCode { FORBIDDEN UPSTREAM_UNAVAILABLE }
  interface Error { code: ErrorCode! message: String! }
  type UpstreamUnavailable implements Error { code: ErrorCode! message: String! }
  type MemberToken {
    accessToken: String!
    accessTokenExpiresAt: DateTime!
    refreshToken: String!
    refreshTokenExpiresAt: DateTime!
    communityMemberId: ID!
    communityId: ID!
  }
  union MemberTokenResult = MemberToken | UpstreamUnavailable
  type Query { memberToken(by: MemberLookup!, value: String!): MemberTokenResult! }
`;

const bodyFields = { ID: 'community_member_id', EMAIL: 'email', SSO_ID: 'sso_user_id' };

/** Circle's request body for `memberToken(by, value)`. */
export function authTokenBody(by, value) {
  return { [bodyFields[by]]: by === 'ID' ? Number(value) : value };
}

/** Circle's member token to the GraphQL type. */
export function memberToken(json) {
  return {
    __typename: 'MemberToken',
    accessToken: json.access_token,
    accessTokenExpiresAt: json.access_token_expires_at,
    refreshToken: json.refresh_token,
    refreshTokenExpiresAt: json.refresh_token_expires_at,
    communityMemberId: String(json.community_member_id),
    communityId: String(json.community_id),
  };
}

export const unavailable = (message) => ({
  __typename: 'UpstreamUnavailable',
  code: 'UPSTREAM_UNAVAILABLE',
  message,
});

export const resolveType = { MemberTokenResult: { __resolveType: (value) => value.__typename } };
