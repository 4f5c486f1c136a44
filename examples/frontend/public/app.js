// The page: signs a demo member in (the demo issuer on this origin), then calls the gateway on its
// own origin with urql, set up as docs/frontend.md says: POST for token operations, no cache.
import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';

const MemberToken = gql`
  query MemberToken($by: MemberLookup!, $value: String!) {
    memberToken(by: $by, value: $value) {
      __typename
      ... on MemberToken { accessToken accessTokenExpiresAt refreshToken communityMemberId }
      ... on Error { code message }
    }
  }
`;
const RefreshToken = gql`
  mutation RefreshToken($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      __typename
      ... on AccessToken { accessToken accessTokenExpiresAt }
      ... on Error { code message }
    }
  }
`;
const RevokeRefreshToken = gql`
  mutation RevokeRefreshToken($refreshToken: String!) {
    revokeRefreshToken(refreshToken: $refreshToken) {
      __typename
      ... on TokenRevoked { revoked }
      ... on Error { code message }
    }
  }
`;

const $ = (id) => document.getElementById(id);
const status = (text) => {
  $('status').textContent = text;
};
const { gatewayUrl } = await (await fetch('/config.json')).json();
let client;
let email;
let tokens;

function enable(signedIn) {
  for (const id of ['get-token', 'ask-other']) $(id).disabled = !signedIn;
  for (const id of ['refresh', 'sign-out']) $(id).disabled = !(signedIn && tokens);
}

/** A typed result as the page shows it: the error's code and message, or what `ok` makes of it. */
function show(result, ok) {
  if (result.error) return status(`Request failed: ${result.error.message}`);
  const field = Object.values(result.data)[0];
  if (field.code) return status(`${field.code}: ${field.message}`);
  status(ok(field));
}

$('sign-in').addEventListener('click', async () => {
  const answer = await fetch('/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: $('email').value }),
  });
  if (!answer.ok) return status('Sign-in failed: not a demo member.');
  const { jwt } = await answer.json();
  email = $('email').value;
  client = new Client({
    url: gatewayUrl,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${jwt}` } }),
  });
  tokens = undefined;
  enable(true);
  status(`Signed in as ${email}.`);
});

$('get-token').addEventListener('click', async () => {
  const result = await client.query(MemberToken, { by: 'EMAIL', value: email }).toPromise();
  show(result, (token) => {
    tokens = token;
    enable(true);
    return `Circle token for member ${token.communityMemberId}, valid until ${token.accessTokenExpiresAt}.`;
  });
});

$('refresh').addEventListener('click', async () => {
  const result = await client.mutation(RefreshToken, { refreshToken: tokens.refreshToken }).toPromise();
  show(result, (access) => `Refreshed: a new access token, valid until ${access.accessTokenExpiresAt}.`);
});

$('ask-other').addEventListener('click', async () => {
  const result = await client.query(MemberToken, { by: 'EMAIL', value: $('other-email').value }).toPromise();
  show(result, () => 'Got someone else’s token (this should not happen).');
});

$('sign-out').addEventListener('click', async () => {
  const result = await client.mutation(RevokeRefreshToken, { refreshToken: tokens.refreshToken }).toPromise();
  show(result, () => 'Signed out: the refresh token is revoked.');
  tokens = undefined;
  client = undefined;
  enable(false);
});

status('Signed out: sign in as a demo member.');
