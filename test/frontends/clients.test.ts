import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CombinedGraphQLErrors } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EndSessionDocument,
  MemberTokenDocument,
  RefreshTokenDocument,
  RevokeRefreshTokenDocument,
  SessionTokenDocument,
  StartSessionDocument,
} from '../../clients/operations.js';
import { createApolloClient } from '../../docs/snippets/apollo-client.js';
import { createGraphQLRequestClient, safeErrorSummary } from '../../docs/snippets/graphql-request.js';
import { createApolloSessionClient } from '../../docs/snippets/session-apollo-client.js';
import { sessionCalls } from '../../docs/snippets/session-fetch.js';
import { createUrqlSessionClient, startWith } from '../../docs/snippets/session-urql.js';
import { createUrqlClient } from '../../docs/snippets/urql.js';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * The guide's snippets (docs/frontend.md, docs/snippets/), run with the real libraries against the
 * gateway on a real socket, production-like: introspection off, a member JWT. Each shows the fix
 * for what a team met with the library's defaults.
 */
let stack: Stack;
let server: Server;
let url: string;
let ada: string;

beforeAll(async () => {
  stack = await startStack({
    gateway: {
      openAccess: false,
      introspection: false,
      graphiql: false,
      auth: { apiKeys: new Map(), jwt: testJwt },
    },
  });
  server = createServer(stack.gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  ada = await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada');
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await stack.close();
});

const self = { by: 'EMAIL' as const, value: 'ada@example.com' };

describe('Apollo Client 4, as the guide sets it up', () => {
  it('asks the gateway again for each member token (no cache), and keeps error fields (possibleTypes)', async () => {
    const client = createApolloClient(url, ada);
    const before = stack.sandbox.stats().calls.authToken;
    const first = await client.query({ query: MemberTokenDocument, variables: self });
    const second = await client.query({ query: MemberTokenDocument, variables: self });
    expect(stack.sandbox.stats().calls.authToken - before).toBe(2);
    const tokens = [first.data?.memberToken, second.data?.memberToken].map((t) =>
      t?.__typename === 'MemberToken' ? t.accessToken : t?.__typename,
    );
    expect(tokens[0]).not.toBe(tokens[1]);
    // Someone else: the typed refusal arrives whole, code and message included, even through the cache.
    const other = await client.query({
      query: MemberTokenDocument,
      variables: { by: 'EMAIL', value: 'grace@example.com' },
      fetchPolicy: 'network-only',
    });
    expect(other.data?.memberToken).toEqual({
      __typename: 'Forbidden',
      code: 'FORBIDDEN',
      message: 'You may not get tokens for that member.',
    });
    const refreshed = await client.mutate({
      mutation: RefreshTokenDocument,
      variables: {
        refreshToken:
          first.data?.memberToken.__typename === 'MemberToken' ? first.data.memberToken.refreshToken : '',
      },
    });
    expect(refreshed.data?.refreshToken.__typename).toBe('AccessToken');
  });

  it('without possibleTypes and with its default cache-first, shows what the guide guards against', async () => {
    const { ApolloClient, HttpLink, InMemoryCache } = await import('@apollo/client');
    const naive = new ApolloClient({
      link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${ada}` } }),
      cache: new InMemoryCache(),
    });
    const before = stack.sandbox.stats().calls.authToken;
    await naive.query({ query: MemberTokenDocument, variables: self });
    await naive.query({ query: MemberTokenDocument, variables: self });
    expect(stack.sandbox.stats().calls.authToken - before).toBe(1);
    const other = await naive.query({
      query: MemberTokenDocument,
      variables: { by: 'EMAIL', value: 'grace@example.com' },
    });
    expect(other.data?.memberToken).toEqual({ __typename: 'Forbidden' });
    void CombinedGraphQLErrors;
  });
});

describe('urql 6, as the guide sets it up', () => {
  it('sends token operations as POST and asks again each time', async () => {
    const client = createUrqlClient(url, ada);
    const first = await client.query(MemberTokenDocument, self).toPromise();
    const second = await client.query(MemberTokenDocument, self).toPromise();
    expect(first.error).toBeUndefined();
    const tokens = [first.data?.memberToken, second.data?.memberToken].map((t) =>
      t?.__typename === 'MemberToken' ? t.accessToken : t?.__typename,
    );
    expect(tokens[0]).toMatch(/^ey/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('with its defaults, sends the query as GET and is told what to change', async () => {
    const { Client, cacheExchange, fetchExchange } = await import('@urql/core');
    const naive = new Client({
      url,
      exchanges: [cacheExchange, fetchExchange],
      fetchOptions: () => ({ headers: { authorization: `Bearer ${ada}` } }),
    });
    const result = await naive.query(MemberTokenDocument, self).toPromise();
    expect(result.error?.graphQLErrors[0]?.message).toBe(
      'Operations that return tokens must be sent with POST: send this request as a POST with a JSON body (with urql, set preferGetMethod: false).',
    );
  });
});

describe('graphql-request 7, as the guide sets it up', () => {
  it('gets, refreshes and revokes, and logs a failure without the variables', async () => {
    const client = createGraphQLRequestClient(url, ada);
    const issued = await client.request(MemberTokenDocument, self);
    if (issued.memberToken.__typename !== 'MemberToken') throw new Error(issued.memberToken.__typename);
    const { refreshToken } = issued.memberToken;
    expect((await client.request(RefreshTokenDocument, { refreshToken })).refreshToken.__typename).toBe(
      'AccessToken',
    );
    expect((await client.request(RevokeRefreshTokenDocument, { refreshToken })).revokeRefreshToken).toEqual({
      __typename: 'TokenRevoked',
      revoked: true,
    });
    // A failing request: its error message carries the variables, the refresh token among them.
    const expired = createGraphQLRequestClient(url, 'not-a-jwt');
    const failure = await expired
      .request(RefreshTokenDocument, { refreshToken })
      .catch((error: unknown) => error);
    expect(String((failure as Error).message)).toContain(refreshToken);
    expect(safeErrorSummary(failure)).toBe('GraphQL request failed: HTTP 401 (UNAUTHENTICATED)');
  });
});

describe('sessions, with each library as the guide sets it up', () => {
  const page = 'http://localhost:5173';
  let sessions: Stack;
  let sessionsUrl: string;
  let sessionsServer: Server;
  beforeAll(async () => {
    sessions = await startStack({
      gateway: {
        openAccess: false,
        introspection: false,
        graphiql: false,
        corsOrigins: [page],
        auth: { apiKeys: new Map(), jwt: testJwt },
        sessions: {
          mode: 'required',
          cookieName: '__Host-circle-session',
          refreshMarginS: 300,
          idleTimeoutS: 86_400,
          maxAgeS: 604_800,
          sweepIntervalS: 3600,
        },
      },
    });
    sessionsServer = createServer(sessions.gateway);
    await new Promise<void>((resolve) => sessionsServer.listen(0, '127.0.0.1', resolve));
    sessionsUrl = `http://127.0.0.1:${(sessionsServer.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await new Promise((resolve) => sessionsServer.close(resolve));
    await sessions.close();
  });

  /**
   * What a browser adds that Node's fetch does not: the page's Origin, and a cookie jar for the
   * gateway's origin (set from Set-Cookie, sent when `credentials` is `include`).
   */
  function browserFetch(): typeof fetch {
    let cookie: string | undefined;
    return async (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('origin', page);
      if (cookie && init.credentials === 'include') headers.set('cookie', cookie);
      const response = await fetch(input, { ...init, headers });
      const set = response.headers.get('set-cookie');
      if (set) cookie = /Max-Age=0;/.test(set) ? undefined : /^([^;]+);/.exec(set)?.[1];
      return response;
    };
  }

  const flows: [string, (jwt: string, f: typeof fetch) => Promise<Record<string, unknown>[]>][] = [
    [
      'plain fetch',
      async (jwt, f) => {
        const calls = sessionCalls(sessionsUrl, f);
        return [await calls.start(jwt), await calls.token(), await calls.end(), await calls.token()];
      },
    ],
    [
      'urql 6',
      async (jwt, f) => {
        const client = createUrqlSessionClient(sessionsUrl, f);
        const start = await client.mutation(StartSessionDocument, {}, startWith(jwt)).toPromise();
        const token = await client.query(SessionTokenDocument, {}).toPromise();
        const end = await client.mutation(EndSessionDocument, {}).toPromise();
        const after = await client.query(SessionTokenDocument, {}).toPromise();
        return [
          start.data?.startSession,
          token.data?.sessionToken,
          end.data?.endSession,
          after.data?.sessionToken,
        ];
      },
    ],
    [
      'Apollo Client 4',
      async (jwt, f) => {
        const client = createApolloSessionClient(sessionsUrl, f);
        const start = await client.mutate({
          mutation: StartSessionDocument,
          context: { headers: { authorization: `Bearer ${jwt}` } },
        });
        const token = await client.query({ query: SessionTokenDocument });
        const end = await client.mutate({ mutation: EndSessionDocument });
        const after = await client.query({ query: SessionTokenDocument });
        return [
          start.data?.startSession,
          token.data?.sessionToken,
          end.data?.endSession,
          after.data?.sessionToken,
        ];
      },
    ],
  ];

  it.each(flows)(
    '%s: starts, gets the access token with no upstream call, ends, then NO_SESSION',
    async (_, flow) => {
      const before = sessions.sandbox.stats().calls;
      const [start, token, end, after] = (await flow(ada, browserFetch())) as Record<string, string>[];
      expect(start).toMatchObject({ __typename: 'SessionToken', communityMemberId: '1' });
      expect(token).toEqual(start);
      expect(end).toEqual({ __typename: 'TokenRevoked', revoked: true });
      // endSession cleared the cookie: the browser sends none any more.
      expect(after).toEqual({
        __typename: 'NoSession',
        code: 'NO_SESSION',
        message: 'No session cookie came with the request: start a session with startSession.',
      });
      const calls = sessions.sandbox.stats().calls;
      expect(calls.authToken - before.authToken).toBe(1);
      expect(calls.refresh - before.refresh).toBe(0);
      expect(calls.revokeAccess - before.revokeAccess).toBe(1);
    },
  );
});

describe('the guide', () => {
  it('shows each snippet exactly as tested', () => {
    const guide = readFileSync(new URL('../../docs/frontend.md', import.meta.url), 'utf8');
    for (const name of [
      'session-apollo-client',
      'session-urql',
      'session-fetch',
      'apollo-client',
      'urql',
      'graphql-request',
    ]) {
      const snippet = readFileSync(new URL(`../../docs/snippets/${name}.ts`, import.meta.url), 'utf8');
      expect(guide).toContain(`\`\`\`ts\n${snippet}\`\`\``);
    }
  });
});
