import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import { type Stack, startStack, testRateLimits } from '../support/stack.js';

/**
 * What `_entities` may cost: a cap on representations per request, one refusal (and one audit
 * event) for a caller that can get no token at all, and refused fields counted against the caller.
 */
const apiKey = 'k-entities-cap-0123456789abcdef';
const entities = (count: number, offset = 0) => ({
  query:
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on CircleMember { token { __typename ... on Error { code } } } } }',
  variables: {
    r: Array.from({ length: count }, (_, i) => ({
      __typename: 'CircleMember',
      email: `m${offset + i}@example.com`,
    })),
  },
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['router', apiKey]]), jwt: testJwt },
      maxEntityRepresentations: 20,
      rateLimits: { ...testRateLimits, perCallerPerMinute: 30, perAnonymousCallerPerMinute: 30 },
    },
  });
});
beforeEach(() => {
  stack.sandbox.resetStats();
  stack.auditLines.length = 0;
});
afterAll(() => stack.close());

const audit = () => stack.auditLines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('_entities', () => {
  it('refuses more representations than the cap, before any lookup', async () => {
    const { query, variables } = entities(21);
    const response = await stack.post(query, variables, { 'x-api-key': apiKey });
    expect(response.body.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
      ['At most 20 entity representations per request; this one sent 21.', 'BAD_USER_INPUT'],
    ]);
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
    // Aliased fields add up.
    const aliased = await stack.post(
      'query ($r: [_Any!]!) { a: _entities(representations: $r) { __typename } b: _entities(representations: $r) { __typename } }',
      entities(11).variables,
      { 'x-api-key': apiKey },
    );
    expect(aliased.body.errors?.[0]?.message).toBe(
      'At most 20 entity representations per request; this one sent 22.',
    );
  });

  it('refuses an anonymous caller once, with one audit event counting every representation', async () => {
    const { query, variables } = entities(20);
    const response = await stack.post(query, variables);
    expect(response.status).toBe(401);
    expect(response.body.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
      ['Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.', 'UNAUTHENTICATED'],
    ]);
    expect(audit()).toEqual([
      expect.objectContaining({
        event: 'token.refused',
        outcome: 'UNAUTHENTICATED',
        caller: { kind: 'anonymous' },
        count: 20,
        subject: { hash: expect.stringMatching(/^hmac-sha256:/) },
      }),
    ]);
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('records a member’s refusals once per request and code, with each subject’s keyed hash, and counts them', async () => {
    const member = await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada');
    const auth = { authorization: `Bearer ${member}` };
    const { query, variables } = entities(20);
    const response = await stack.post(query, variables, auth);
    const found = (response.body.data?._entities ?? []) as unknown as Array<{ token: { code: string } }>;
    const tokens = found.map((e) => e.token.code);
    expect(tokens).toEqual(Array(20).fill('FORBIDDEN'));
    const events = audit();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'token.refused', outcome: 'FORBIDDEN', count: 20 });
    const subjects = events[0]?.subjects as string[];
    expect(new Set(subjects).size).toBe(20);
    for (const hash of subjects) expect(hash).toMatch(/^hmac-sha256:[\w-]{22}$/);
    expect(JSON.stringify(events)).not.toContain('@example.com');
    // 20 refused fields counted: 10 more of the 30 a minute, then the caller is limited.
    const more = await stack.post(entities(10, 100).query, entities(10, 100).variables, auth);
    expect(more.body.data?._entities).toHaveLength(10);
    const limited = await stack.post(
      '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename ... on Error { code } } }',
      undefined,
      auth,
    );
    expect(limited.body.data?.memberToken).toEqual({ __typename: 'RateLimited', code: 'RATE_LIMITED' });
  });
});
