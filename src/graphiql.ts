/** The GraphiQL page's starting document: six example documents covering the four operations. */
export function exampleOperations(member: { email: string; id: number; ssoId: string }): string {
  const memberFields = `
    __typename
    ... on MemberToken {
      accessToken
      accessTokenExpiresAt
      refreshToken
      refreshTokenExpiresAt
      communityMemberId
      communityId
    }
    ... on Error { code message }`;
  return `# circle-auth-gateway: a member's Circle tokens, typed.
# Pick an operation in the Run menu. For the mutations, paste a token from a MemberToken result
# into the Variables pane: {"refreshToken": "…", "accessToken": "…"}.

query MemberTokenByEmail {
  memberToken(by: EMAIL, value: "${member.email}") {${memberFields}
  }
}

query MemberTokenById {
  memberToken(by: ID, value: "${member.id}") {${memberFields}
  }
}

query MemberTokenBySso {
  memberToken(by: SSO, value: "${member.ssoId}") {${memberFields}
  }
}

mutation RefreshToken($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) {
    __typename
    ... on AccessToken { accessToken accessTokenExpiresAt }
    ... on Error { code message }
  }
}

mutation RevokeRefreshToken($refreshToken: String!) {
  revokeRefreshToken(refreshToken: $refreshToken) {
    __typename
    ... on TokenRevoked { revoked }
    ... on Error { code message }
  }
}

mutation RevokeAccessToken($accessToken: String!) {
  revokeAccessToken(accessToken: $accessToken) {
    __typename
    ... on TokenRevoked { revoked }
    ... on Error { code message }
  }
}
`;
}
