import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustedDocuments } from '../../src/config/trusted-documents.js';
import { frontDoorHooks } from '../../src/hot-path/plugin-hooks.js';
import { listenOn, memberTokenFields, type Stack, startStack } from '../support/stack.js';

/**
 * The hot path (src/hot-path/) against yoga's own path, on one gateway: the same requests sent over
 * HTTP to its node listener (hot path in front) and to yoga's request listener must get the same
 * status, headers and body, once the hot path serves them; and what the hot path does not serve,
 * yoga answers.
 */
const apiKey = 'hot-path-test-key-0123456789';
const tokenQuery = `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;

let stack: Stack;
let hot: Server;
let yoga: Server;

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

// Values that differ between two mints of the same member, or two requests.
const varying = new Set([
  'accessToken',
  'refreshToken',
  'accessTokenExpiresAt',
  'refreshTokenExpiresAt',
  'requestId',
]);

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, varying.has(key) ? '<varies>' : normalise(field)]),
  );
}

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
}

async function send(server: Server, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(urlOf(server), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...headers },
    body,
  });
  const text = await response.text();
  const picked: Record<string, string | null> = {};
  for (const name of ['content-type', 'cache-control', 'www-authenticate', 'allow']) {
    picked[name] = response.headers.get(name);
  }
  picked['x-request-id'] = response.headers.get('x-request-id') === null ? null : '<present>';
  let parsed: unknown;
  try {
    parsed = normalise(JSON.parse(text));
  } catch {
    parsed = { notJson: text };
  }
  return { status: response.status, headers: picked, body: parsed };
}

async function servedCount(): Promise<number> {
  const text = await stack.metrics?.registry.metrics();
  const line = text
    ?.split('\n')
    .find((l) => l.startsWith('gateway_hot_path_requests_total{outcome="served"}'));
  return Number(line?.split(' ')[1]);
}

/**
 * Sends `body` twice to the hot listener and twice to yoga's, alternately: the first runs of a
 * document (the hot path runs it on graphql-js, yoga on its executor) and the second (both on
 * graphql-jit) must answer alike. `served`: how many of the hot listener's two the hot path served.
 */
async function compare(body: string, headers: Record<string, string> = {}) {
  const before = await servedCount();
  const firstHot = await send(hot, body, headers);
  const firstYoga = await send(yoga, body, headers);
  const fromHot = await send(hot, body, headers);
  const fromYoga = await send(yoga, body, headers);
  const served = (await servedCount()) - before;
  expect(firstHot).toEqual(firstYoga);
  return { fromHot, fromYoga, served };
}

beforeAll(async () => {
  stack = await startStack({
    metrics: true,
    gateway: { openAccess: false, introspection: false, auth: { apiKeys: new Map([['billing', apiKey]]) } },
  });
  hot = await listenOn(stack.gateway.nodeListener);
  yoga = await listenOn((req, res) => void stack.gateway.requestListener(req, res));
});

afterAll(async () => {
  hot.close();
  yoga.close();
  await stack.close();
});

describe('the hot path answers as yoga does', () => {
  it('serves a repeated token request with the same status, headers and body', async () => {
    const { fromHot, fromYoga, served } = await compare(JSON.stringify({ query: tokenQuery }));
    expect(served).toBe(2);
    expect(fromHot).toEqual(fromYoga);
    expect(fromHot.status).toBe(200);
    expect(fromHot.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'www-authenticate': null,
      allow: null,
      'x-request-id': '<present>',
    });
    expect(fromHot.body).toEqual({
      data: {
        memberToken: {
          __typename: 'MemberToken',
          accessToken: '<varies>',
          accessTokenExpiresAt: '<varies>',
          refreshToken: '<varies>',
          refreshTokenExpiresAt: '<varies>',
          communityMemberId: '1',
          communityId: '1',
        },
      },
    });
  });

  it.each([
    ['no Accept header', {}],
    ['*/*', { accept: '*/*' }],
    ['application/json', { accept: 'application/json' }],
    ['application/graphql-response+json', { accept: 'application/graphql-response+json' }],
    // What the clients of docs/frontend.md send, and a few more.
    ["Apollo Client's", { accept: 'application/graphql-response+json,application/json;q=0.9' }],
    [
      "urql's",
      {
        accept:
          'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed',
      },
    ],
    ["graphql-request's", { accept: 'application/graphql-response+json, application/json' }],
    ['application/*', { accept: 'application/*' }],
    ['text/html first', { accept: 'text/html, application/json;q=0.5' }],
    [
      'a charset other than utf-8 first',
      { accept: 'application/json; charset=iso-8859-1, application/graphql-response+json' },
    ],
  ])('answers in the media type yoga picks for %s', async (_name, headers) => {
    const { fromHot, fromYoga, served } = await compare(JSON.stringify({ query: tokenQuery }), headers);
    expect(served).toBe(2);
    expect(fromHot).toEqual(fromYoga);
  });

  it('runs variables, and refuses wrong or missing ones with the same errors', async () => {
    const query = `query Token($email: String!) { memberToken(by: EMAIL, value: $email) { ${memberTokenFields} } }`;
    for (const variables of [
      { email: 'ada@example.com' },
      { email: 5 },
      {},
      { email: 'nobody@example.com' },
    ]) {
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const { fromHot, fromYoga, served } = await compare(JSON.stringify({ query, variables }), { accept });
        expect(served).toBe(2);
        expect(fromHot).toEqual(fromYoga);
      }
    }
    const missing = await compare(JSON.stringify({ query, variables: {} }), { accept: 'application/json' });
    expect(missing.fromHot.body).toEqual({
      errors: [
        {
          message: 'Variable "$email" of required type "String!" was not provided.',
        },
      ],
      extensions: { requestId: '<varies>' },
    });
  });

  it('picks the operation operationName names; a name that names none goes to yoga', async () => {
    const query = `query A { memberToken(by: EMAIL, value: "ada@example.com") { __typename } } query B { memberToken(by: ID, value: "999999") { ${memberTokenFields} } }`;
    const b = await compare(JSON.stringify({ query, operationName: 'B' }));
    expect(b.served).toBe(2);
    expect(b.fromHot).toEqual(b.fromYoga);
    expect(b.fromHot.body).toEqual({
      data: {
        memberToken: { __typename: 'MemberNotFound', code: 'MEMBER_NOT_FOUND', message: expect.any(String) },
      },
    });
    const none = await compare(JSON.stringify({ query, operationName: 'C' }));
    expect(none.served).toBe(0);
    expect(none.fromHot).toEqual(none.fromYoga);
    expect(none.fromHot.status).toBe(400);
  });

  it('treats operationName "" as a name that names nothing, even once the document ran without one', async () => {
    const query = '{ memberToken(by: ID, value: "999999") { __typename } }';
    const unnamed = await compare(JSON.stringify({ query }));
    expect(unnamed.served).toBe(2);
    const empty = await compare(JSON.stringify({ query, operationName: '' }));
    expect(empty.served).toBe(0);
    expect(empty.fromHot).toEqual(empty.fromYoga);
    expect(empty.fromHot.status).toBe(400);
  });

  it('leaves to yoga what it does not serve, which answers it as before', async () => {
    const body = JSON.stringify({ query: tokenQuery });
    const cases: [string, string, Record<string, string>][] = [
      ['a wrong API key', body, { 'x-api-key': 'not-the-key-0123456789' }],
      ['no credentials', body, { 'x-api-key': '' }],
      ['an Origin header (CORS is yoga’s)', body, { origin: 'https://app.example.com' }],
      ['extensions', JSON.stringify({ query: tokenQuery, extensions: { a: 1 } }), {}],
      ['a document yoga refuses', JSON.stringify({ query: '{ memberToken { nope } }' }), {}],
      // graphql-armor's limits, introspection off and hidden suggestions: yoga's envelop refuses
      // them for the hot path too, which hands them to yoga to say so.
      [
        'too deep',
        JSON.stringify({
          query:
            '{ memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { ... on MemberToken { accessToken } } } } } } } } } } } } }',
        }),
        {},
      ],
      [
        'too many aliases',
        JSON.stringify({
          query: `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: memberToken(by: ID, value: "1") { __typename }`).join(' ')} }`,
        }),
        {},
      ],
      ['too many tokens', JSON.stringify({ query: `{ ${'__typename '.repeat(2001)}}` }), {}],
      [
        'too many directives',
        JSON.stringify({ query: `{ __typename ${'@include(if: true) '.repeat(11)}}` }),
        {},
      ],
      ['introspection while it is off', JSON.stringify({ query: '{ __schema { queryType { name } } }' }), {}],
      [
        'a misspelt field (no suggestion)',
        JSON.stringify({ query: '{ memberTokn(by: EMAIL, value: "a@b.c") { __typename } }' }),
        {},
      ],
      ['a subscription', JSON.stringify({ query: 'subscription { memberToken }' }), {}],
      ['text/plain', body, { 'content-type': 'text/plain' }],
      ['an Accept without JSON', body, { accept: 'text/event-stream' }],
      ['an Accept with only another charset', body, { accept: 'application/json; charset=iso-8859-1' }],
    ];
    const statuses: Record<string, number> = {};
    for (const [name, sent, headers] of cases) {
      const { fromHot, fromYoga, served } = await compare(sent, headers);
      expect({ name, served }).toEqual({ name, served: 0 });
      expect({ name, ...fromHot }).toEqual({ name, ...fromYoga });
      statuses[name] = fromHot.status;
    }
    // Every one of them is refused (none executed): 4xx, or yoga's 200 with errors for application/json.
    for (const [name, status] of Object.entries(statuses))
      expect({ name, ok: status >= 400 || status === 200 }).toEqual({ name, ok: true });
  });

  it('writes the access log line and audit event yoga’s path writes', async () => {
    const query = `query AuditMe { memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;
    await send(hot, JSON.stringify({ query }));
    stack.logLines.length = 0;
    stack.auditLines.length = 0;
    await send(hot, JSON.stringify({ query }), { 'x-request-id': 'hot-line-1' });
    await send(yoga, JSON.stringify({ query }), { 'x-request-id': 'yoga-line-1' });
    const lines = stack.logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
    const shape = (line: Record<string, unknown>) => ({
      ...line,
      time: 0,
      durationMs: 0,
      requestId: 0,
      callerRequestId: 0,
    });
    // The caller's id is recorded apart; the gateway's own names the request.
    expect(lines.map((line) => line.callerRequestId)).toEqual(['hot-line-1', 'yoga-line-1']);
    for (const line of lines) expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(shape(lines[0])).toEqual(shape(lines[1]));
    expect(lines[0]).toMatchObject({
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'AuditMe',
      caller: { kind: 'backend', name: 'billing' },
      upstreamCalls: 1,
    });
    const audit = stack.auditLines.map((line) => JSON.parse(line));
    expect(audit.map((event) => [event.event, event.callerRequestId, event.caller])).toEqual([
      ['token.issued', 'hot-line-1', { kind: 'backend', name: 'billing' }],
      ['token.issued', 'yoga-line-1', { kind: 'backend', name: 'billing' }],
    ]);
    expect(audit.map((event) => event.requestId)).toEqual(lines.map((line) => line.requestId));
  });
});

describe('an unexpected error on the hot path', () => {
  let faulty: Stack;
  let faultyHot: Server;
  let faultyYoga: Server;

  beforeAll(async () => {
    faulty = await startStack({
      metrics: true,
      gateway: { openAccess: false, auth: { apiKeys: new Map([['billing', apiKey]]) } },
      // A bug below the gateway (no HTTP answer causes this): a plain Error from the client.
      upstream: (client) => ({
        ...client,
        api: {
          ...client.api,
          issueMemberToken: () => Promise.reject(new Error('secret detail ada@example.com')),
        },
      }),
    });
    faultyHot = await listenOn(faulty.gateway.nodeListener);
    faultyYoga = await listenOn((req, res) => void faulty.gateway.requestListener(req, res));
  });

  afterAll(async () => {
    faultyHot.close();
    faultyYoga.close();
    await faulty.close();
  });

  it('is masked and logged with the request id, as on yoga’s path', async () => {
    // One pipeline below both doors: a document's first run is graphql-js's, whichever door it came
    // in by, and keeps the error's location; from its second run, on either door, it is compiled
    // (graphql-jit), which does not.
    const other = JSON.stringify({ query: `${tokenQuery} ` });
    const first = await send(faultyYoga, other);
    expect(first.body).toMatchObject({
      errors: [{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }] }],
    });
    const second = await send(faultyHot, other);
    expect(second.status).toBe(first.status);
    expect((second.body as { errors: object[] }).errors[0]).toEqual({
      message: 'Unexpected error.',
      path: ['memberToken'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    const body = JSON.stringify({ query: tokenQuery });
    expect(await send(faultyHot, body)).toEqual(first);
    faulty.logLines.length = 0;
    const fromHot = await send(faultyHot, body, { 'x-request-id': 'hot-fault-1' });
    const fromYoga = await send(faultyYoga, body);
    expect(fromHot).toEqual(fromYoga);
    expect(fromHot.body).toEqual({
      data: null,
      errors: [
        {
          message: 'Unexpected error.',
          path: ['memberToken'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ],
      extensions: { requestId: '<varies>' },
    });
    const logged = faulty.logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'unexpected error');
    expect(logged).toMatchObject({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      path: 'memberToken',
      err: { name: 'Error' },
    });
  });
});

describe('every hook of every plugin, accounted for on the front door', () => {
  const verdict = /^(pipeline|framing|n\/a): ./;
  /** The hooks of `composed` the list does not account for, as `plugin: hook`. */
  const unaccounted = (composed: readonly (readonly [string, object])[]) =>
    composed.flatMap(([name, plugin]) =>
      Object.keys(plugin)
        .filter((hook) => !verdict.test(frontDoorHooks[name]?.[hook] ?? ''))
        .map((hook) => `${name}: ${hook}`),
    );

  it('lists each plugin server.ts composes, and each of its hooks, with what the front door does', async () => {
    // Two configurations between them compose every plugin: introspection off adds the suggestion
    // block, trusted documents add theirs, sessions the session guard.
    const manifest = new URL('../../clients/trusted-documents.json', import.meta.url);
    const trusted = await startStack({
      gateway: {
        introspection: false,
        trustedDocuments: loadTrustedDocuments(manifest.pathname),
        corsOrigins: ['http://localhost:5173'],
        sessions: {
          mode: 'on',
          cookieName: '__Host-circle-session',
          refreshMarginS: 300,
          idleTimeoutS: 86_400,
          maxAgeS: 604_800,
          sweepIntervalS: 60,
        },
      },
    });
    try {
      const composed = [...stack.gateway.composedPlugins, ...trusted.gateway.composedPlugins];
      expect(composed.length).toBeGreaterThan(15);
      expect(unaccounted(composed)).toEqual([]);
      // Nothing listed that the gateway no longer composes: the list says what is there.
      const hooksOf = new Map(composed.map(([name, plugin]) => [name, Object.keys(plugin)]));
      const stale = Object.entries(frontDoorHooks).flatMap(([name, hooks]) =>
        Object.keys(hooks)
          .filter((hook) => !hooksOf.get(name)?.includes(hook))
          .map((hook) => `${name}: ${hook}`),
      );
      expect(stale).toEqual([]);
    } finally {
      await trusted.close();
    }
  });

  it('fails on a plugin that is not on the list, or a hook a listed plugin gains', () => {
    expect(
      unaccounted([
        ['a new plugin', { onExecute() {} }],
        ['body limit', { onRequestParse() {}, onExecute() {} }],
      ]),
    ).toEqual(['a new plugin: onExecute', 'body limit: onExecute']);
  });
});

describe('GRAPHQL_JIT=false', () => {
  it('runs every document on graphql-js, on both paths (graphql-jit would drop the locations)', async () => {
    const plain = await startStack({
      gateway: { openAccess: false, graphqlJit: false, auth: { apiKeys: new Map([['billing', apiKey]]) } },
    });
    const plainHot = await listenOn(plain.gateway.nodeListener);
    const plainYoga = await listenOn((req, res) => void plain.gateway.requestListener(req, res));
    try {
      const query = `query Token($email: String!) { memberToken(by: EMAIL, value: $email) { ${memberTokenFields} } }`;
      const body = JSON.stringify({ query, variables: {} });
      const expected = {
        errors: [
          {
            message: 'Variable "$email" of required type "String!" was not provided.',
            locations: [{ line: 1, column: 13 }],
          },
        ],
        extensions: { requestId: '<varies>' },
      };
      for (let run = 1; run <= 3; run++) {
        expect((await send(plainHot, body)).body).toEqual(expected);
        expect((await send(plainYoga, body)).body).toEqual(expected);
      }
    } finally {
      plainHot.close();
      plainYoga.close();
      await plain.close();
    }
  });
});
