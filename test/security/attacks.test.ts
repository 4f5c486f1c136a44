import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memberTokenFields, type Stack, startStack } from '../support/stack.js';

/** The attack suite: each attempt is refused with a clear error and reaches nothing upstream. */
const apiKey = 'k-attack-suite-0123456789abcdef';
const secret = 'attack-suite-member-jwt-secret-0123456789';
const issuer = 'https://idp.example.test';
const audience = 'circle-auth-gateway';

let stack: Stack;
let locked: Stack;
beforeAll(async () => {
  const auth = {
    apiKeys: new Map([['billing', apiKey]]),
    jwt: {
      secret,
      issuer,
      audience,
      emailClaim: 'email',
      ssoClaim: 'sub',
      memberIdClaim: 'circle_member_id',
      emailVerifiedClaim: 'email_verified',
      emailsAlwaysVerified: false,
      maxAgeS: 86_400,
      clockToleranceS: 60,
    },
  };
  stack = await startStack({ gateway: { openAccess: false, auth } });
  locked = await startStack({ gateway: { openAccess: false, auth, introspection: false, graphiql: false } });
});
beforeEach(() => stack.sandbox.resetStats());
afterAll(async () => {
  await stack.close();
  await locked.close();
});

const key = { 'x-api-key': apiKey };

describe('attack suite', () => {
  it('refuses 1000 aliases', async () => {
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: memberToken(by: ID, value: "1") { __typename }`).join(' ')} }`;
    const response = await stack.post(query, undefined, key);
    // GraphQL over HTTP with Accept: application/json answers request errors with 200.
    expect(response.status).toBe(200);
    expect(response.body.errors?.[0]?.message).toBe('Syntax Error: Token limit of 2000 exceeded.');
    const fewerTokens = `{ ${Array.from({ length: 60 }, (_, i) => `a${i}: memberToken(by: ID, value: "1") { __typename }`).join(' ')} }`;
    const aliases = await stack.post(fewerTokens, undefined, key);
    expect(aliases.body.errors?.[0]?.message).toBe('Syntax Error: Aliases limit of 50 exceeded, found 60.');
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('refuses a 50-operation batch', async () => {
    const batch = Array.from({ length: 50 }, () => ({
      query: '{ memberToken(by: ID, value: "1") { __typename } }',
    }));
    const response = await stack.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...key },
      body: JSON.stringify(batch),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ message: string }> }).errors[0]?.message).toBe(
      'Batching is not supported.',
    );
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('refuses a 200-deep query', async () => {
    const fragment = (n: number): string => (n === 0 ? '__typename' : `... on Query { ${fragment(n - 1)} }`);
    const response = await stack.post(`{ ${fragment(200)} }`, undefined, key);
    expect(response.status).toBe(200);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.[0]?.message).toBe(
      'Syntax Error: Query depth limit of 10 exceeded, found 201.',
    );
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('refuses a 2 MB body with 413', async () => {
    const response = await stack.post(`{ __typename } # ${'x'.repeat(2 * 1024 * 1024)}`, undefined, key);
    expect(response.status).toBe(413);
    expect(response.body.errors?.[0]?.message).toBe('Request body too large: the limit is 100000 bytes.');
  });

  it('refuses a cross-site form POST (CSRF) and multipart', async () => {
    const form = await stack.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'query=mutation%7BrevokeAccessToken(accessToken%3A%22x.y.z%22)%7B__typename%7D%7D',
    });
    expect(form.status).toBe(403);
    expect(((await form.json()) as { errors: Array<{ message: string }> }).errors[0]?.message).toBe(
      'Required CSRF header(s) not present',
    );
    const multipart = await stack.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'multipart/form-data; boundary=x',
        'x-graphql-yoga-csrf': '1',
        accept: 'application/json',
      },
      body: '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--x--\r\n',
    });
    expect(multipart.status).toBe(415);
    expect(stack.sandbox.stats().calls.revokeAccess).toBe(0);
  });

  it('refuses wrong, expired and alg:none JWTs, and a member asking for another member', async () => {
    const sign = (claims: Record<string, unknown>, exp: number | string, signingKey = secret) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject('sso-ada')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(signingKey));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'sso-ada', iss: issuer, aud: audience, exp: 9_999_999_999 }),
    ).toString('base64url')}.`;
    const attempts = [
      [await sign({}, '5m', 'wrong-secret-wrong-secret-wrong-secret!!'), 'The bearer token is not valid.'],
      [await sign({}, Math.floor(Date.now() / 1000) - 120), 'The bearer token has expired.'],
      [none, 'The bearer token is not valid.'],
    ] as const;
    for (const [token, message] of attempts) {
      const response = await stack.post(
        `{ memberToken(by: SSO, value: "sso-ada") { ${memberTokenFields} } }`,
        undefined,
        {
          authorization: `Bearer ${token}`,
        },
      );
      expect(response.body.errors?.[0]?.message).toBe(message);
    }
    const ada = await sign({ email: 'ada@example.com', email_verified: true }, '5m');
    const takeover = await stack.post(
      `{ memberToken(by: EMAIL, value: "grace@example.com") { ${memberTokenFields} } }`,
      undefined,
      {
        authorization: `Bearer ${ada}`,
      },
    );
    expect(takeover.body.data?.memberToken).toMatchObject({ code: 'FORBIDDEN' });
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('hides field suggestions when introspection is off', async () => {
    const response = await locked.post('{ memberTokn(by: ID, value: "1") { __typename } }', undefined, key);
    const message = String(response.body.errors?.[0]?.message);
    expect(message).toBe('Cannot query field "memberTokn" on type "Query". [Suggestion hidden]');
    const open = await stack.post('{ memberTokn(by: ID, value: "1") { __typename } }', undefined, key);
    expect(open.body.errors?.[0]?.message).toBe(
      'Cannot query field "memberTokn" on type "Query". Did you mean "memberToken"?',
    );
  });

  it('leaves no secret in any log line after the whole suite', () => {
    const logs = [...stack.logLines, ...locked.logLines].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secretText of [
      apiKey,
      secret,
      stack.sandbox.appToken,
      'ada@example.com',
      'grace@example.com',
      'eyJ',
    ]) {
      expect(logs).not.toContain(secretText);
    }
  });
});

describe('CORS', () => {
  const preflight = (target: Stack, origin: string) =>
    target.gateway.fetch('http://gateway/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });

  it('allows no cross-origin browser calls by default', async () => {
    const response = await preflight(stack, 'https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the configured origins', async () => {
    const allowed = await startStack({ gateway: { corsOrigins: ['https://app.example.com'] } });
    try {
      const ok = await preflight(allowed, 'https://app.example.com');
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await preflight(allowed, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
      // Decided per request: a stranger gets no CORS grant at all (a static one-origin list made
      // yoga's helper answer it with the listed origin, a longer list with `null`).
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await allowed.close();
    }
    const two = await startStack({
      gateway: { corsOrigins: ['https://app.example.com', 'https://admin.example.com'] },
    });
    try {
      const ok = await preflight(two, 'https://admin.example.com');
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
      const other = await preflight(two, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await two.close();
    }
  });

  it('with CORS_ORIGINS=*, allows any origin and never credentials', async () => {
    const anyone = await startStack({ gateway: { corsOrigins: '*' } });
    try {
      const answer = await preflight(anyone, 'https://evil.example');
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://evil.example');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      const post = await anyone.gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: {
          origin: 'https://evil.example',
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(post.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await anyone.close();
    }
  });
});
