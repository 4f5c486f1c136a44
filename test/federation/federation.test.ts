import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices as composeServices23 } from 'apollo-composition-2.3';
import { parse, print } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { printSubgraph } from '../../src/schema/print.js';
import { type Stack, startStack } from '../support/stack.js';

const apiKey = 'k-router-forwarded-0123456789';

/** A test "accounts" subgraph: users whose CircleMember is an email reference. */
const accountsTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  type User @key(fields: "id") {
    id: ID!
    name: String!
    circleMember: CircleMember
  }
  type CircleMember @key(fields: "email", resolvable: false) {
    email: String
  }
  type Query {
    me: User
    users: [User!]!
  }
`);
const emails = ['ada', 'grace', 'alan', 'katherine', 'edsger', 'm6', 'm7', 'm8', 'm9', 'm10'].map(
  (n) => `${n}@example.com`,
);
const users = Array.from({ length: 50 }, (_, i) => ({
  id: String(i + 1),
  name: `User ${i + 1}`,
  email: emails[i % 10],
}));
const accountsSchema = buildSubgraphSchema({
  typeDefs: accountsTypeDefs,
  resolvers: {
    Query: { me: () => users[0], users: () => users },
    User: { circleMember: (user: { email: string }) => ({ email: user.email }) },
  },
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

let stack: Stack;
let circle: { server: Server; url: string };
let accounts: { server: Server; url: string };
let router: ReturnType<typeof createGatewayRuntime>;
let supergraphSdl: string;

beforeAll(async () => {
  const members = emails.map((email, i) => ({ id: i + 1, email, ssoId: `sso-${i + 1}`, name: '' }));
  stack = await startStack({
    sandbox: { members },
    gateway: { openAccess: false, auth: { apiKeys: new Map([['router', apiKey]]) } },
  });
  circle = await listen(stack.gateway);
  accounts = await listen(createYoga({ schema: accountsSchema, logging: false }));
  const composed = composeServices([
    { name: 'circle', typeDefs: parse(printSubgraph()), url: circle.url },
    { name: 'accounts', typeDefs: accountsTypeDefs, url: accounts.url },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl;
  router = createGatewayRuntime({
    supergraph: supergraphSdl,
    logging: false,
    // As a router would be set up in front of this gateway: forward the caller's credentials.
    propagateHeaders: {
      fromClientToSubgraphs: ({ request, subgraphName }) =>
        subgraphName === 'circle'
          ? Object.fromEntries(
              ['x-api-key', 'authorization'].flatMap((h) =>
                request.headers.get(h) ? [[h, String(request.headers.get(h))]] : [],
              ),
            )
          : {},
    },
  });
});
beforeEach(() => stack.sandbox.resetStats());
afterAll(async () => {
  await router?.dispose();
  circle?.server.close();
  accounts?.server.close();
  await stack?.close();
});

async function throughRouter(query: string, headers: Record<string, string> = {}) {
  const response = await router.fetch('http://router/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: Record<string, unknown>;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

const entities = (
  representations: unknown[],
  selection = '... on CircleMember { communityMemberId email token { __typename ... on MemberToken { accessToken communityMemberId } ... on Error { code message } } }',
) =>
  stack.post(
    `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
    { r: representations },
    { 'x-api-key': apiKey },
  );

describe('the subgraph', () => {
  it('links federation v2.0 and declares CircleMember with its three keys in _service { sdl }', async () => {
    const response = await stack.post('{ _service { sdl } }');
    const sdl = String((response.body.data?._service as { sdl?: string } | undefined)?.sdl);
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@key"])');
    expect(sdl).toMatch(
      /type CircleMember\s+@key\(fields: "communityMemberId"\)\s+@key\(fields: "email"\)\s+@key\(fields: "ssoId"\)/,
    );
  });

  it('matches the committed subgraph.graphql (run `npm run schema` after an intended change)', () => {
    expect(printSubgraph()).toBe(readFileSync(new URL('../../subgraph.graphql', import.meta.url), 'utf8'));
  });

  it('composes with an older composer too (@apollo/composition 2.3), beside one on federation v2.0', () => {
    const accountsV20 = parse(print(accountsTypeDefs).replace('federation/v2.6', 'federation/v2.0'));
    const composed = composeServices23([
      { name: 'circle', typeDefs: parse(printSubgraph()), url: 'http://circle/graphql' },
      { name: 'accounts', typeDefs: accountsV20, url: 'http://accounts/graphql' },
    ]);
    expect(composed.errors?.map((e) => e.message)).toBeUndefined();
    expect(composed.supergraphSdl).toMatch(/join__type\(graph: CIRCLE, key: "email"\)/);
    expect(composed.supergraphSdl).toMatch(/join__type\(graph: CIRCLE, key: "ssoId"\)/);
  });

  it('composes with an accounts subgraph that returns CircleMember as an email reference', () => {
    expect(supergraphSdl).toContain('type CircleMember');
    expect(supergraphSdl).toMatch(/join__type\(graph: CIRCLE, key: "email"\)/);
    expect(supergraphSdl).toMatch(/join__type\(graph: ACCOUNTS, key: "email", resolvable: false\)/);
  });
});

describe('_entities', () => {
  it('resolves N representations with k distinct keys in k upstream calls, in order', async () => {
    const representations = Array.from({ length: 50 }, (_, i) => ({
      __typename: 'CircleMember',
      email: emails[i % 10],
    }));
    const response = await entities(representations);
    const results = response.body.data?._entities as unknown as Array<{
      email: string;
      token: { accessToken: string; communityMemberId: string };
    }>;
    expect(results).toHaveLength(50);
    expect(results.map((r) => r.email)).toEqual(representations.map((r) => r.email));
    expect(results.map((r) => r.token.communityMemberId)).toEqual(
      representations.map((_, i) => String((i % 10) + 1)),
    );
    expect(stack.sandbox.stats().calls.authToken).toBe(10);
  });

  it('fills communityMemberId from Circle’s answer when the token is selected, and leaves it null otherwise without a call', async () => {
    const withToken = await entities([{ __typename: 'CircleMember', email: 'grace@example.com' }]);
    expect(withToken.body.data?._entities).toMatchObject([
      { communityMemberId: '2', email: 'grace@example.com' },
    ]);
    stack.sandbox.resetStats();
    const keysOnly = await entities(
      [{ __typename: 'CircleMember', ssoId: 'sso-3' }],
      '... on CircleMember { communityMemberId email ssoId }',
    );
    expect(keysOnly.body.data?._entities).toStrictEqual([
      { communityMemberId: null, email: null, ssoId: 'sso-3' },
    ]);
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('looks members up by id and by SSO id, and answers bad or unknown keys with typed results', async () => {
    const response = await entities([
      { __typename: 'CircleMember', communityMemberId: '4' },
      { __typename: 'CircleMember', ssoId: 'sso-5' },
      { __typename: 'CircleMember', email: 'not-an-email' },
      { __typename: 'CircleMember', email: 'nobody@example.com' },
    ]);
    const tokens = (
      (response.body.data?._entities ?? []) as unknown as Array<{ token: Record<string, unknown> }>
    ).map((r) => r.token);
    expect(tokens[0]).toMatchObject({ __typename: 'MemberToken', communityMemberId: '4' });
    expect(tokens[1]).toMatchObject({ __typename: 'MemberToken', communityMemberId: '5' });
    expect(tokens[2]).toStrictEqual({
      __typename: 'InvalidInput',
      code: 'INVALID_INPUT',
      message: 'Invalid email: expected an email address like name@example.com.',
    });
    expect(tokens[3]).toMatchObject({ __typename: 'MemberNotFound', code: 'MEMBER_NOT_FOUND' });
  });

  it('applies the same authorization as memberToken', async () => {
    const response = await stack.post(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on CircleMember { token { __typename } } } }',
      { r: [{ __typename: 'CircleMember', email: 'ada@example.com' }] },
    );
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });
});

describe('through a federation router (Hive Gateway runtime, in process)', () => {
  it('returns a token for me { circleMember { token } } with the forwarded API key', async () => {
    const result = await throughRouter(
      '{ me { name circleMember { token { ... on MemberToken { accessToken } ... on Error { code } } } } }',
      { 'x-api-key': apiKey },
    );
    expect(result.errors).toBeUndefined();
    const token = (result.data?.me as { circleMember?: { token?: { accessToken: string } } } | undefined)
      ?.circleMember?.token;
    expect(token?.accessToken).toMatch(/^eyJ/);
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
  });

  it('makes 10 upstream calls for 50 users with 10 distinct emails', async () => {
    const result = await throughRouter(
      '{ users { id circleMember { token { ... on MemberToken { communityMemberId } } } } }',
      {
        'x-api-key': apiKey,
      },
    );
    const rows = result.data?.users as Array<{
      id: string;
      circleMember: { token: { communityMemberId: string } };
    }>;
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.circleMember.token.communityMemberId)).toEqual(
      users.map((_, i) => String((i % 10) + 1)),
    );
    expect(stack.sandbox.stats().calls.authToken).toBe(10);
  });

  it('enforces the credentials the router forwards: none, no token', async () => {
    const result = await throughRouter(
      '{ me { circleMember { token { ... on MemberToken { accessToken } } } } }',
    );
    expect(JSON.stringify(result)).not.toContain('eyJ');
    expect(result.errors?.length).toBeGreaterThan(0);
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });
});
