// The page: signs a demo member in (the demo issuer on this origin), starts a session at the
// gateway (its own origin, same site), and from then on asks only for the session's access token.
// The refresh token never reaches this page: the gateway keeps it (docs/frontend.md, sessions).
import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';

const fields = `
  __typename
  ... on SessionToken { accessToken accessTokenExpiresAt communityMemberId }
  ... on Error { code message }
`;
const StartSession = gql`mutation StartSession { startSession { ${fields} } }`;
const SessionToken = gql`query SessionToken { sessionToken { ${fields} } }`;
const EndSession = gql`
  mutation EndSession {
    endSession { __typename ... on TokenRevoked { revoked } ... on Error { code message } }
  }
`;
const MemberToken = gql`
  query MemberToken($by: MemberLookup!, $value: String!) {
    memberToken(by: $by, value: $value) {
      __typename
      ... on MemberToken { accessToken }
      ... on Error { code message }
    }
  }
`;

const $ = (id) => document.getElementById(id);
const status = (text) => {
  $('status').textContent = text;
};
const { gatewayUrl } = await (await fetch('/config.json')).json();

/**
 * The gateway client: POST only, no cache, the session cookie sent (`credentials: 'include'`) with
 * the header that marks a request as the page's own (`x-circle-csrf: 1`, which forces a CORS
 * preflight that only a listed origin passes). `authorization` only for startSession.
 */
const gateway = (headers = {}) =>
  new Client({
    url: gatewayUrl,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({ credentials: 'include', headers: { 'x-circle-csrf': '1', ...headers } }),
  });
const client = gateway();
let signedIn = false;

function enable() {
  for (const id of ['get-token', 'ask-other', 'sign-out']) $(id).disabled = !signedIn;
}

/** A typed result as the page shows it: the error's code and message, or what `ok` makes of it. */
function show(result, ok) {
  if (result.error) return status(`Request failed: ${result.error.message}`);
  const field = Object.values(result.data)[0];
  if (field.code) return status(`${field.code}: ${field.message}`);
  status(ok(field));
}
const describe = (token) =>
  `Access token for member ${token.communityMemberId}, valid until ${token.accessTokenExpiresAt}.`;

$('sign-in').addEventListener('click', async () => {
  const answer = await fetch('/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: $('email').value }),
  });
  if (!answer.ok) return status('Sign-in failed: not a demo member.');
  // The identity provider's JWT is used once, to start the session, and not kept.
  const { jwt } = await answer.json();
  const result = await gateway({ authorization: `Bearer ${jwt}` })
    .mutation(StartSession, {})
    .toPromise();
  show(result, (token) => {
    signedIn = true;
    return `Session started. ${describe(token)}`;
  });
  enable();
});

$('get-token').addEventListener('click', async () => {
  show(await client.query(SessionToken, {}).toPromise(), describe);
});

$('ask-other').addEventListener('click', async () => {
  const result = await client.query(MemberToken, { by: 'EMAIL', value: $('other-email').value }).toPromise();
  show(result, () => 'Got a member token (this should not happen with a session).');
});

$('sign-out').addEventListener('click', async () => {
  const result = await client.mutation(EndSession, {}).toPromise();
  show(result, () => 'Signed out: the session has ended and its Circle tokens are revoked.');
  signedIn = false;
  enable();
});

status('Signed out: sign in as a demo member.');
