import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CallerAuthentication, createCallerAuthentication } from '../../src/auth/callers.js';
import { resilientJwks } from '../../src/auth/jwks.js';
import { loadConfig } from '../../src/config/load.js';
import {
  memberTokenFields,
  revokedFields,
  type Stack,
  startStack,
  testRateLimits,
} from '../support/stack.js';

const apiKey = 'k-billing-0123456789abcdef';
const secret = 'a-member-jwt-secret-of-at-least-32-chars!';
const issuer = 'https://idp.example.test';
const audience = 'circle-auth-gateway';
const jwtConfig = {
  issuer,
  audience,
  emailClaim: 'email',
  ssoClaim: 'sub',
  memberIdClaim: 'circle_member_id',
  emailVerifiedClaim: 'email_verified',
  emailsAlwaysVerified: false,
  maxAgeS: 86_400,
  clockToleranceS: 60,
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['billing', apiKey]]), jwt: { secret, ...jwtConfig } },
    },
  });
});
beforeEach(() => stack.sandbox.resetStats());
afterAll(() => stack.close());

function memberJwt(
  claims: Record<string, unknown>,
  options: { key?: string; exp?: string | number; aud?: string; iss?: string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setSubject(String(claims.sub ?? 'sso-ada'))
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m')
    .sign(new TextEncoder().encode(options.key ?? secret));
}

const ask = (by: string, value: string, headers: Record<string, string> = {}) =>
  stack.post(`{ memberToken(by: ${by}, value: "${value}") { ${memberTokenFields} } }`, undefined, headers);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('callers without credentials', () => {
  it('get UNAUTHENTICATED for memberToken, with no upstream call', async () => {
    const response = await ask('EMAIL', 'ada@example.com');
    expect(response.status).toBe(401);
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message: 'Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.',
        extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }),
      }),
    ]);
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('may refresh and revoke: possession of the token is the credential', async () => {
    const issued = await ask('EMAIL', 'ada@example.com', { 'x-api-key': apiKey });
    const refreshToken = String(issued.body.data?.memberToken?.refreshToken);
    const refreshed = await stack.post(
      'mutation($t: String!) { refreshToken(refreshToken: $t) { __typename } }',
      { t: refreshToken },
    );
    expect(refreshed.body.data?.refreshToken).toStrictEqual({ __typename: 'AccessToken' });
    const revoked = await stack.post(
      `mutation($t: String!) { revokeRefreshToken(refreshToken: $t) { ${revokedFields} } }`,
      {
        t: refreshToken,
      },
    );
    expect(revoked.body.data?.revokeRefreshToken).toStrictEqual({
      __typename: 'TokenRevoked',
      revoked: true,
    });
  });
});

describe('trusted backends (x-api-key)', () => {
  it('may get tokens for any member', async () => {
    for (const [by, value] of [
      ['EMAIL', 'grace@example.com'],
      ['ID', '3'],
      ['SSO', 'sso-katherine'],
    ]) {
      const response = await ask(String(by), String(value), { 'x-api-key': apiKey });
      expect(response.body.data?.memberToken?.__typename).toBe('MemberToken');
    }
  });

  it('are refused with a wrong key before anything runs', async () => {
    const response = await ask('EMAIL', 'ada@example.com', { 'x-api-key': `${apiKey}x` });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.message).toBe('The API key is not valid.');
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });
});

describe('every refused credential is audited (auth.refused)', () => {
  const refused = (from: number) =>
    stack.auditLines
      .slice(from)
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === 'auth.refused');

  it('names the credential kind and the reason, with a keyed hash of the address and the request id; never the credential', async () => {
    const from = stack.auditLines.length;
    const cases: [Record<string, string>, string, string][] = [
      [{ 'x-api-key': `${apiKey}x` }, 'api_key', 'unknown_key'],
      [
        bearer(await memberJwt({ email: 'ada@example.com' }, { key: `${secret}x` })),
        'bearer',
        'bad_signature',
      ],
      [
        bearer(await memberJwt({ email: 'ada@example.com' }, { aud: 'someone-else' })),
        'bearer',
        'wrong_audience',
      ],
      [
        bearer(await memberJwt({ email: 'ada@example.com' }, { exp: Math.floor(Date.now() / 1000) - 3600 })),
        'bearer',
        'expired',
      ],
      [{ authorization: 'Basic abc' }, 'bearer', 'malformed_header'],
    ];
    const ids: string[] = [];
    for (const [headers] of cases) {
      const response = await ask('EMAIL', 'ada@example.com', headers);
      expect(response.status).toBe(401);
      ids.push(response.headers.get('x-request-id') ?? '');
    }
    const events = refused(from);
    expect(events.map((e) => [e.credential, e.reason])).toEqual(
      cases.map(([, kind, reason]) => [kind, reason]),
    );
    expect(events.map((e) => e.requestId)).toEqual(ids);
    for (const event of events) expect(event.source).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{22}$/);
    const text = stack.auditLines.slice(from).join('\n');
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain('127.0.0.1');
    for (const [headers] of cases)
      for (const value of Object.values(headers)) expect(text).not.toContain(value);
  });
});

describe('members (Bearer JWT)', () => {
  it('may get tokens for themselves by verified email (any case), SSO id (sub) or Circle member id', async () => {
    const token = await memberJwt({
      email: 'Ada@Example.com',
      email_verified: true,
      sub: 'sso-ada',
      circle_member_id: 1,
    });
    for (const [by, value] of [
      ['EMAIL', 'ada@example.com'],
      ['SSO', 'sso-ada'],
      ['ID', '1'],
    ]) {
      const response = await ask(String(by), String(value), bearer(token));
      expect(response.body.data?.memberToken).toMatchObject({
        __typename: 'MemberToken',
        communityMemberId: '1',
      });
    }
  });

  it('get FORBIDDEN for another member, with no upstream call', async () => {
    const token = await memberJwt({ email: 'ada@example.com', sub: 'sso-ada', circle_member_id: 1 });
    for (const [by, value] of [
      ['EMAIL', 'grace@example.com'],
      ['SSO', 'sso-grace'],
      ['ID', '2'],
    ]) {
      const response = await ask(String(by), String(value), bearer(token));
      expect(response.status).toBe(200);
      expect(response.body.data?.memberToken).toStrictEqual({
        __typename: 'Forbidden',
        code: 'FORBIDDEN',
        message: 'You may not get tokens for that member.',
      });
    }
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('uses an email only when the issuer says it is verified, in so many words', async () => {
    for (const flag of [undefined, false, 'false', 'False', 0, 1, null, 'no', 'yes', {}]) {
      const claims = {
        email: 'ada@example.com',
        sub: 'someone-else',
        ...(flag === undefined ? {} : { email_verified: flag }),
      };
      const answer = await ask('EMAIL', 'ada@example.com', bearer(await memberJwt(claims)));
      expect(answer.body.data?.memberToken, JSON.stringify(flag)).toMatchObject({ code: 'FORBIDDEN' });
    }
    for (const flag of [true, 'true']) {
      const claims = { email: 'ada@example.com', sub: 'someone-else', email_verified: flag };
      const answer = await ask('EMAIL', 'ada@example.com', bearer(await memberJwt(claims)));
      expect(answer.body.data?.memberToken?.__typename, String(flag)).toBe('MemberToken');
    }
    expect(stack.sandbox.stats().calls.authToken).toBe(2);
  });

  it('reads the verified flag from the configured claim, or trusts the email when told the issuer always verifies', async () => {
    const custom = await startStack({
      gateway: {
        openAccess: false,
        auth: {
          apiKeys: new Map(),
          jwt: { secret, ...jwtConfig, emailClaim: 'mail', emailVerifiedClaim: 'mail_verified' },
        },
      },
    });
    const always = await startStack({
      gateway: {
        openAccess: false,
        auth: { apiKeys: new Map(), jwt: { secret, ...jwtConfig, emailsAlwaysVerified: true } },
      },
    });
    try {
      const query = `{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }`;
      const unflagged = await memberJwt({ mail: 'ada@example.com', email_verified: true, sub: 'x' });
      expect((await custom.post(query, undefined, bearer(unflagged))).body.data?.memberToken).toEqual({
        __typename: 'Forbidden',
      });
      const flagged = await memberJwt({ mail: 'ada@example.com', mail_verified: true, sub: 'x' });
      expect((await custom.post(query, undefined, bearer(flagged))).body.data?.memberToken).toEqual({
        __typename: 'MemberToken',
      });
      const plain = await memberJwt({ email: 'ada@example.com', sub: 'x' });
      expect((await always.post(query, undefined, bearer(plain))).body.data?.memberToken).toEqual({
        __typename: 'MemberToken',
      });
    } finally {
      await custom.close();
      await always.close();
    }
  });

  it('refuses a JWT without exp, one issued in the future, and one that lives longer than allowed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const signed = (claims: Record<string, unknown>) =>
      new SignJWT({ sub: 'sso-ada', iss: issuer, aud: audience, ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'The bearer token must carry an expiry (exp).'],
      [{ iat: now }, 'The bearer token must carry an expiry (exp).'],
      [{ iat: now + 300, exp: now + 600 }, 'The bearer token was issued in the future (iat).'],
      [
        { exp: now + 2 * 86_400 },
        'The bearer token lives too long: at most 86400 s from its issue is accepted.',
      ],
      [
        { iat: now - 2 * 86_400, exp: now + 600 },
        'The bearer token lives too long: at most 86400 s from its issue is accepted.',
      ],
    ];
    for (const [claims, message] of cases) {
      const response = await ask('SSO', 'sso-ada', bearer(await signed(claims)));
      expect(response.status, JSON.stringify(claims)).toBe(401);
      expect(response.body.errors?.[0]?.message, JSON.stringify(claims)).toBe(message);
    }
    // Within the clock tolerance (60 s) an iat ahead of the gateway's clock is accepted.
    const ahead = await ask('SSO', 'sso-ada', bearer(await signed({ iat: now + 30, exp: now + 600 })));
    expect(ahead.body.data?.memberToken?.__typename).toBe('MemberToken');
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
  });

  const refused: Array<[string, () => Promise<string>, string]> = [
    [
      'signed with another secret',
      () => memberJwt({ sub: 'sso-ada' }, { key: 'another-secret-of-at-least-32-characters' }),
      'The bearer token is not valid.',
    ],
    [
      'expired',
      () => memberJwt({ sub: 'sso-ada' }, { exp: Math.floor(Date.now() / 1000) - 60 }),
      'The bearer token has expired.',
    ],
    [
      'for another audience',
      () => memberJwt({ sub: 'sso-ada' }, { aud: 'someone-else' }),
      'The bearer token is not valid.',
    ],
    [
      'from another issuer',
      () => memberJwt({ sub: 'sso-ada' }, { iss: 'https://evil.example' }),
      'The bearer token is not valid.',
    ],
    [
      'with alg: none',
      async () => {
        const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
        const exp = Math.floor(Date.now() / 1000) + 300;
        return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'sso-ada', email: 'ada@example.com', iss: issuer, aud: audience, exp })}.`;
      },
      'The bearer token is not valid.',
    ],
    ['that is not a JWT', async () => 'not-a-jwt', 'The bearer token is not valid.'],
  ];
  for (const [name, make, message] of refused) {
    it(`are refused with a token ${name}, before anything runs`, async () => {
      const response = await ask('SSO', 'sso-ada', bearer(await make()));
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]).toMatchObject({ message, extensions: { code: 'UNAUTHENTICATED' } });
      expect(stack.sandbox.stats().calls.authToken).toBe(0);
    });
  }
});

describe('members with a JWKS (RS256)', () => {
  let jwks: Server;
  let keyStack: Stack;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
    const { port } = jwks.address() as AddressInfo;
    keyStack = await startStack({
      gateway: {
        openAccess: false,
        auth: { apiKeys: new Map(), jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, ...jwtConfig } },
      },
    });
  });
  afterAll(async () => {
    await keyStack.close();
    jwks.close();
  });

  it('accept a token signed by a key of the set, and refuse an HS256 one', async () => {
    const good = await new SignJWT({ email: 'ada@example.com', email_verified: true })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('sso-ada')
      .setExpirationTime('5m')
      .sign(privateKey);
    const ok = await keyStack.post(
      `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`,
      undefined,
      bearer(good),
    );
    expect(ok.body.data?.memberToken?.__typename).toBe('MemberToken');
    const hs = await memberJwt({ email: 'ada@example.com' });
    const refused = await keyStack.post(
      `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`,
      undefined,
      bearer(hs),
    );
    expect(refused.status).toBe(401);
  });
});

describe('members when the JWKS cannot be fetched', () => {
  it('get a logged 503 AUTH_UNAVAILABLE on both doors, the outage logged once, fetches backed off', async () => {
    // A JWKS that answers 500, and counts how often it is asked.
    let fetches = 0;
    const broken = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<h1>Internal Server Error</h1>');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', () => resolve()));
    const { port } = broken.address() as AddressInfo;
    const unreachable = await startStack({
      gateway: {
        openAccess: false,
        auth: { apiKeys: new Map(), jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, ...jwtConfig } },
      },
    });
    const front = createServer(unreachable.gateway.nodeListener);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
    const frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}/graphql`;
    try {
      const pair = await generateKeyPair('RS256');
      const token = await new SignJWT({ email: 'ada@example.com', email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(pair.privateKey);
      const query = `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const response = await unreachable.post(query, undefined, bearer(token));
        expect(response.status).toBe(503);
        const error = response.body.errors?.[0];
        expect(error?.message).toBe('Caller authentication is unavailable right now; try again shortly.');
        expect(error?.extensions?.code).toBe('AUTH_UNAVAILABLE');
        expect(error?.extensions?.requestId).toBe(response.headers.get('x-request-id'));
        const door = await fetch(frontUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(token) },
          body: JSON.stringify({ query }),
        });
        expect(door.status).toBe(503);
        expect(
          ((await door.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
        ).toBe('AUTH_UNAVAILABLE');
      }
      // Six requests on two doors: one fetch, then the back-off (a second, doubling) holds the rest.
      expect(fetches).toBe(1);
      const lines = unreachable.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const outages = lines.filter((l) => String(l.msg).startsWith('member JWT key set unreachable'));
      expect(outages).toEqual([
        expect.objectContaining({
          level: 50,
          msg: 'member JWT key set unreachable: member JWTs answered 503 AUTH_UNAVAILABLE',
          servingCachedKeys: false,
        }),
      ]);
      expect(lines.filter((l) => l.msg === 'caller authentication unavailable')).toHaveLength(6);
      expect(unreachable.sandbox.stats().calls.authToken).toBe(0);
    } finally {
      await new Promise((resolve) => front.close(resolve));
      broken.close();
      await unreachable.close();
    }
  });

  it('keep verifying with the keys fetched before while a refresh fails, and say when it is back', async () => {
    const pair = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    let healthy = true;
    let fetches = 0;
    const idp = createServer((_req, res) => {
      fetches += 1;
      if (!healthy) {
        res.writeHead(502);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', () => resolve()));
    const events: string[] = [];
    const getKey = resilientJwks(new URL(`http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks`), {
      cacheMaxAgeMs: 1,
      minBackoffMs: 200,
      observer: {
        unavailable: (_reason, cached) => events.push(`unavailable cached=${cached}`),
        recovered: () => events.push('recovered'),
      },
    });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(pair.privateKey);
    const verify = () => jwtVerify(token, getKey, { algorithms: ['RS256'] });
    try {
      await verify();
      expect(fetches).toBe(1);
      healthy = false;
      await new Promise((resolve) => setTimeout(resolve, 5));
      // Stale, refetched, failed: the cached key still verifies; within the back-off no fetch.
      for (let i = 0; i < 5; i += 1) await verify();
      expect(fetches).toBe(2);
      expect(events).toEqual(['unavailable cached=true']);
      healthy = true;
      await new Promise((resolve) => setTimeout(resolve, 250));
      await verify();
      expect(fetches).toBe(3);
      expect(events).toEqual(['unavailable cached=true', 'recovered']);
    } finally {
      idp.close();
    }
  });
});

describe('a request handed from the front door to yoga', () => {
  it('is authenticated once: the front door’s verdict goes with it', async () => {
    const auth = { apiKeys: new Map([['billing', apiKey]]), jwt: { secret, ...jwtConfig } };
    const real = createCallerAuthentication(auth);
    let authentications = 0;
    const counted: CallerAuthentication = {
      authenticate: (headers, address) => {
        authentications += 1;
        return real.authenticate(headers, address);
      },
      reload: real.reload,
    };
    const once = await startStack({ gateway: { openAccess: false, auth }, callers: counted });
    const front = createServer(once.gateway.nodeListener);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}/graphql`;
    const send = (query: string, headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });
    try {
      const wrongSecret = await memberJwt(
        { sub: 'sso-ada' },
        { key: 'another-secret-of-at-least-32-characters' },
      );
      const cases: Array<[string, Record<string, string>, number]> = [
        // Refused at the front door, answered by yoga.
        ['{ __typename }', bearer(wrongSecret), 401],
        ['{ __typename }', { 'x-api-key': 'not-a-key-of-this-gateway' }, 401],
        // Authenticated at the front door, handed over for a document yoga must answer.
        ['{ nope }', { 'x-api-key': apiKey }, 200],
        // Served at the front door.
        ['{ __typename }', { 'x-api-key': apiKey }, 200],
      ];
      for (const [query, headers, status] of cases) {
        authentications = 0;
        const response = await send(query, headers);
        expect(response.status, query).toBe(status);
        expect(authentications, `${query} ${status}`).toBe(1);
      }
    } finally {
      await new Promise((resolve) => front.close(resolve));
      await once.close();
    }
  });
});

describe('rate limits count resolved fields, so aliases cannot get around them', () => {
  it('limits a caller', async () => {
    const limited = await startStack({
      gateway: {
        openAccess: false,
        auth: { apiKeys: new Map([['billing', apiKey]]) },
        rateLimits: { ...testRateLimits, perCallerPerMinute: 3 },
      },
    });
    try {
      const query = `{ ${['ada', 'grace', 'alan', 'edsger'].map((n, i) => `a${i}: memberToken(by: EMAIL, value: "${n}@example.com") { ${memberTokenFields} }`).join(' ')} }`;
      const response = await limited.post(query, undefined, { 'x-api-key': apiKey });
      const results = Object.values(response.body.data ?? {});
      expect(results.slice(0, 3).map((r) => r.__typename)).toEqual([
        'MemberToken',
        'MemberToken',
        'MemberToken',
      ]);
      expect(results[3]).toMatchObject({ __typename: 'RateLimited', code: 'RATE_LIMITED' });
      expect(String(results[3]?.message)).toMatch(
        /^Too many token requests from this caller; retry after \d+ s\.$/,
      );
      expect(limited.sandbox.stats().calls.authToken).toBe(3);
    } finally {
      await limited.close();
    }
  });

  it('limits a member, even asked for through aliases that make one upstream call', async () => {
    const limited = await startStack({
      gateway: { rateLimits: { ...testRateLimits, perMemberPerMinute: 2 } },
    });
    try {
      const query = `{ ${[0, 1, 2].map((i) => `a${i}: memberToken(by: EMAIL, value: "${i === 2 ? 'ADA' : 'ada'}@example.com") { ${memberTokenFields} }`).join(' ')} }`;
      const results = Object.values((await limited.post(query)).body.data ?? {});
      expect(results.map((r) => r.__typename)).toEqual(['MemberToken', 'MemberToken', 'RateLimited']);
      expect(String(results[2]?.message)).toMatch(
        /^Too many token requests for this member; retry after \d+ s\.$/,
      );
    } finally {
      await limited.close();
    }
  });

  it('keeps the whole gateway within its share of Circle’s budget', async () => {
    const limited = await startStack({
      gateway: { rateLimits: { ...testRateLimits, circleBudgetPer5Min: 2 } },
    });
    try {
      const query = `{ ${['ada', 'grace', 'alan'].map((n, i) => `a${i}: memberToken(by: EMAIL, value: "${n}@example.com") { ${memberTokenFields} }`).join(' ')} }`;
      const results = Object.values((await limited.post(query)).body.data ?? {});
      expect(results.map((r) => r.__typename)).toEqual(['MemberToken', 'MemberToken', 'RateLimited']);
      expect(String(results[2]?.message)).toMatch(
        /^The gateway's share of Circle's rate limit is spent; retry after \d+ s\.$/,
      );
      expect(Number(results[2]?.retryAfterSeconds)).toBeGreaterThan(200);
      expect(limited.sandbox.stats().calls.authToken).toBe(2);
    } finally {
      await limited.close();
    }
  });
});

describe('start-up refuses an unsafe or unclear configuration', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [
      { CIRCLE_APP_TOKEN: 'a-real-app-token-0123456789' },
      'GATEWAY_API_KEYS, GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL: expected at least one caller authentication when CIRCLE_APP_TOKEN is set, got none',
    ],
    [
      { GATEWAY_API_KEYS: 'billing:short' },
      'GATEWAY_API_KEYS: expected comma-separated name:key pairs (distinct names of letters, digits, _ . -; distinct keys of at least 16 characters), got a value of 13 characters',
    ],
    [
      { GATEWAY_API_KEYS: `billing:${apiKey},billing:${apiKey}-other` },
      `GATEWAY_API_KEYS: expected comma-separated name:key pairs (distinct names of letters, digits, _ . -; distinct keys of at least 16 characters), got a value of ${`billing:${apiKey},billing:${apiKey}-other`.length} characters`,
    ],
    [
      { GATEWAY_JWT_SECRET: secret, GATEWAY_JWKS_URL: 'https://idp.example/jwks.json' },
      'GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL: expected one of them, got both',
    ],
    [
      { GATEWAY_JWT_SECRET: secret },
      'GATEWAY_JWT_ISSUER: expected the issuer (iss) member JWTs must carry, got nothing',
    ],
    [
      { GATEWAY_JWT_SECRET: 'too-short' },
      'GATEWAY_JWT_SECRET: expected an HS256 secret of at least 32 characters, got a value of 9 characters',
    ],
  ];
  for (const [env, message] of cases) {
    it(`refuses ${Object.keys(env).join(' + ')}: ${message.slice(0, 40)}…`, () => {
      expect(() => loadConfig(env)).toThrow(message);
    });
  }

  it('starts outside sandbox mode once a caller authentication is configured', () => {
    const config = loadConfig({
      CIRCLE_APP_TOKEN: 'a-real-app-token-0123456789',
      GATEWAY_API_KEYS: `billing:${apiKey}`,
    });
    expect(config.auth.apiKeys.get('billing')).toBe(apiKey);
    expect(config.rateLimits.circleBudgetPer5Min).toBe(1800);
  });
});
