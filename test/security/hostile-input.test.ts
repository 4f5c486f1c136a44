import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memberTokenFields, type Stack, startStack } from '../support/stack.js';

/**
 * No client input, however malformed, gets a 5xx or a masked "Unexpected error.": each gets a 4xx
 * or a typed GraphQL error, with a JSON body that says what is wrong, and nothing at error level
 * in the log. Known cases first, then generated ones (fast-check, bounded in count).
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    gateway: { openAccess: false, auth: { apiKeys: new Map([['backend', apiKey]]) } },
  });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.sandbox.resetStats();
});

const apiKey = 'hostile-input-api-key-0123456789';
const memberTokenQuery = `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;

interface Answer {
  status: number;
  contentType: string | null;
  body: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; data?: unknown };
}

async function send(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await stack.fetch(path, init);
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  // GraphiQL (on here) answers a GET that accepts HTML with its page.
  if (contentType?.startsWith('text/html') && init.method === undefined) {
    expect(text).toContain('<title>circle-auth-gateway</title>');
    return { status: response.status, contentType, body: {} };
  }
  let body: Answer['body'];
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  return { status: response.status, contentType, body };
}

const post = (body: string, headers: Record<string, string> = {}) =>
  send('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

/** What every answer to hostile input must be: a 4xx or a typed error, said in JSON, never masked. */
function expectTold(answer: Answer) {
  expect(answer.status).toBeLessThan(500);
  const messages = (answer.body.errors ?? []).map((e) => e.message);
  expect(messages).not.toContain('Unexpected error.');
  if (answer.status >= 400) expect(messages.length).toBeGreaterThan(0);
}

function errorLogLines() {
  return stack.logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
}

describe('hostile input: the known cases', () => {
  it('a subscription operation gets 400 saying subscriptions are not served', async () => {
    const answer = await post(JSON.stringify({ query: 'subscription { memberToken }' }), {
      'x-api-key': apiKey,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]).toMatchObject({
      message: 'Subscriptions are not supported: this gateway serves queries and mutations.',
      extensions: { code: 'OPERATION_NOT_SUPPORTED' },
    });
  });

  for (const name of ['variables', 'extensions']) {
    it(`GET with ${name} that are not JSON gets 400 saying so`, async () => {
      const answer = await send(
        `/graphql?query=${encodeURIComponent('{ __typename }')}&${name}=%7Bnot-json`,
        {
          headers: { accept: 'application/json' },
        },
      );
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]).toMatchObject({
        message: `The ${name} parameter is not valid JSON.`,
        extensions: { code: 'BAD_REQUEST' },
      });
    });
  }

  for (const [label, representations, message] of [
    ['without __typename', [{ email: 'ada@example.com' }], 'Representation 0 has no __typename.'],
    [
      'with an unknown __typename',
      [{ __typename: 'User', id: '1' }],
      'Representation 0 names "User", which is not an entity of this subgraph (CircleMember).',
    ],
    ['that is not an object', ['ada@example.com'], 'Representation 0 is not an object.'],
  ] as const) {
    it(`_entities with a representation ${label} gets a GraphQL error saying so, from an anonymous caller too`, async () => {
      const answer = await post(
        JSON.stringify({
          query: 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
          variables: { r: representations },
        }),
      );
      expect(answer.status).toBe(200);
      expect(answer.body.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    });
  }

  it('_entities with a representation whose key is not a string gets a GraphQL error saying so; an anonymous caller is refused before', async () => {
    const body = JSON.stringify({
      query: 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
      variables: { r: [{ __typename: 'CircleMember', email: 5 }] },
    });
    const backend = await post(body, { 'x-api-key': apiKey });
    expect(backend.status).toBe(200);
    expect(backend.body.errors?.[0]).toMatchObject({
      message: 'CircleMember representation: email must be a string.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const anonymous = await post(body);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]).toMatchObject({
      message: 'Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.',
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('an unsupported Content-Type gets 415 with a JSON body naming what is supported', async () => {
    const answer = await post('<query/>', { 'content-type': 'text/xml' });
    expect(answer.status).toBe(415);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body.errors?.[0]).toMatchObject({
      message: 'Unsupported Content-Type "text/xml": send application/json.',
      extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
    });
  });

  it('a method other than GET or POST gets 405 with a JSON body', async () => {
    const answer = await send('/graphql', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(405);
    expect(answer.body.errors?.[0]).toMatchObject({
      message: 'Method PUT is not allowed: send GraphQL requests with POST (or GET for introspection).',
      extensions: { code: 'METHOD_NOT_ALLOWED' },
    });
  });

  it('an Accept the gateway cannot serve gets 406 with a JSON body, and mints nothing at Circle', async () => {
    const answer = await post(JSON.stringify({ query: memberTokenQuery }), {
      accept: 'text/html',
      'x-api-key': apiKey,
    });
    expect(answer.status).toBe(406);
    expect(answer.body.errors?.[0]).toMatchObject({
      message:
        'Not Acceptable: the answer is application/graphql-response+json or application/json, and the Accept header allows neither.',
      extensions: { code: 'NOT_ACCEPTABLE' },
    });
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('answers the same request with an Accept it can serve (the check is not too strict)', async () => {
    for (const accept of [
      'application/json',
      'application/graphql-response+json',
      '*/*',
      'application/*',
      'text/html, */*;q=0.1',
    ]) {
      const answer = await post(JSON.stringify({ query: '{ __typename }' }), { accept, 'x-api-key': apiKey });
      expect(answer.status, accept).toBe(200);
    }
  });

  it('logged nothing at error level for any of the above', () => {
    expect(errorLogLines()).toEqual([]);
  });
});

describe('hostile input: generated (fast-check)', () => {
  const contentTypes = fc.constantFrom(
    'application/json',
    'application/graphql+json',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    'text/xml',
    '',
  );
  const accepts = fc.constantFrom(
    'application/json',
    '*/*',
    'text/html',
    'application/xml',
    'text/event-stream',
    'multipart/mixed',
    '',
    'application/json; charset=latin1',
  );
  const documents = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.constantFrom(
      memberTokenQuery,
      'subscription { x }',
      '{ _entities(representations: [{}]) { __typename } }',
      '{ _entities(representations: [1, "x", null]) { __typename } }',
      'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
      'mutation { refreshToken(refreshToken: "x") { __typename } }',
      '{ __schema { types { name } } }',
      'query A { __typename } query B { __typename }',
      '{ memberToken(by: ID, value: "99999999999999999999") { __typename } }',
      'fragment F on Query { ...F } { ...F }',
    ),
  );
  const bodies = fc.oneof(
    fc
      .record({
        query: documents,
        variables: fc.option(fc.jsonValue({ maxDepth: 3 })),
        operationName: fc.option(fc.string({ maxLength: 10 })),
      })
      .map((b) => JSON.stringify(b)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 300 }),
  );

  it('answers every generated POST with a 4xx or a typed error, in JSON, never masked', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodies,
        contentTypes,
        accepts,
        fc.boolean(),
        async (body, contentType, accept, authenticated) => {
          const headers: Record<string, string> = { 'x-graphql-yoga-csrf': '1' };
          if (contentType) headers['content-type'] = contentType;
          if (accept) headers.accept = accept;
          if (authenticated) headers['x-api-key'] = apiKey;
          const answer = await send('/graphql', { method: 'POST', headers, body });
          expectTold(answer);
        },
      ),
      { numRuns: 400, seed: 20261130 },
    );
  });

  it('answers every generated _entities representation list with data or a typed error, never masked', async () => {
    const representation = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record(
        {
          __typename: fc.constantFrom('CircleMember', 'User', '_Entity', ''),
          email: fc.oneof(
            fc.constantFrom('ada@example.com', 'nobody@example.com'),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          ssoId: fc.jsonValue({ maxDepth: 1 }),
          communityMemberId: fc.oneof(
            fc.integer(),
            fc.string({ maxLength: 20 }),
            fc.jsonValue({ maxDepth: 1 }),
          ),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(representation, { maxLength: 4 }),
        fc.boolean(),
        async (representations, authenticated) => {
          const answer = await post(
            JSON.stringify({
              query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on CircleMember { communityMemberId token { ${memberTokenFields} } } } }`,
              variables: { r: representations },
            }),
            authenticated ? { 'x-api-key': apiKey } : {},
          );
          expectTold(answer);
        },
      ),
      { numRuns: 200, seed: 20261130 },
    );
  });

  it('answers every generated GET with a 4xx or a typed error, in JSON, never masked', async () => {
    const params = fc.record({
      query: fc.option(documents),
      variables: fc.option(
        fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
        ),
      ),
      extensions: fc.option(
        fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
        ),
      ),
      operationName: fc.option(fc.string({ maxLength: 10 })),
    });
    await fc.assert(
      fc.asyncProperty(params, accepts, async (p, accept) => {
        const search = new URLSearchParams();
        for (const [key, value] of Object.entries(p)) if (value !== null) search.set(key, value);
        const answer = await send(`/graphql?${search}`, { headers: accept ? { accept } : {} });
        expectTold(answer);
      }),
      { numRuns: 300, seed: 20261130 },
    );
  });

  it('logged nothing at error level', () => {
    expect(errorLogLines()).toEqual([]);
  });
});
