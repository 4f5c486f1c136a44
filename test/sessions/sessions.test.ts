import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionsConfig } from '../../src/config/load.js';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import { memberTokenFields, type Stack, type StackOptions, startStack } from '../support/stack.js';

/**
 * Sessions end to end on one gateway (DESIGN.md, Sessions): the browser holds an HttpOnly cookie,
 * the refresh token stays in the gateway, and the sandbox is asked only when it must. Every case
 * runs under the four readings of what Circle leaves undocumented: a second mint returns the
 * refresh token already issued, or a new one; a refresh before expiry is accepted, or refused.
 */
const page = 'http://localhost:5173';
const apiKey = 'sessions-test-api-key-0123456789';
const sessions: SessionsConfig = {
  mode: 'on',
  cookieName: '__Host-circle-session',
  refreshMarginS: 300,
  idleTimeoutS: 3600 * 6,
  maxAgeS: 86_400 * 7,
  sweepIntervalS: 3600,
};
const HOUR = 3_600_000;

const ada = { email: 'ada@example.com', email_verified: true };
const browser = { origin: page, 'x-circle-csrf': '1' };

const sessionFields = `__typename
  ... on SessionToken { accessToken accessTokenExpiresAt communityMemberId communityId }
  ... on Error { code message }`;
const START = `mutation { startSession { ${sessionFields} } }`;
const TOKEN = `{ sessionToken { ${sessionFields} } }`;
const END =
  'mutation { endSession { __typename ... on TokenRevoked { revoked } ... on Error { code message } } }';

interface Field {
  __typename: string;
  accessToken: string;
  accessTokenExpiresAt: string;
  communityMemberId: string;
  communityId: string;
  code?: string;
  message?: string;
}

/** A gateway with sessions on, a backend's API key and member JWTs, the page's origin listed. */
const sessionsStack = (options: StackOptions = {}, settings: SessionsConfig = sessions) =>
  startStack({
    ...options,
    gateway: {
      openAccess: false,
      corsOrigins: [page],
      auth: { apiKeys: new Map([['backend', apiKey]]), jwt: testJwt },
      sessions: settings,
    },
  });

const readings = [
  { reuseRefreshTokens: false, refuseEarlyRefresh: false },
  { reuseRefreshTokens: true, refuseEarlyRefresh: false },
  { reuseRefreshTokens: false, refuseEarlyRefresh: true },
  { reuseRefreshTokens: true, refuseEarlyRefresh: true },
];

describe.each(readings)('sessions (sandbox: reuse refresh tokens %#: %o)', (reading) => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await sessionsStack({ sandbox: reading, metrics: true });
  });
  afterEach(() => stack.close());

  const jwt = (claims: Record<string, unknown> = ada, subject = 'sso-ada') => signMemberJwt(claims, subject);

  async function start(headers: Record<string, string> = {}) {
    const response = await stack.post(START, undefined, {
      authorization: `Bearer ${await jwt()}`,
      ...browser,
      ...headers,
    });
    const field = response.body.data?.startSession as unknown as Field;
    const setCookie = response.headers.get('set-cookie') ?? '';
    const cookie = /^(__Host-circle-session=[^;]+);/.exec(setCookie)?.[1] ?? '';
    return { response, field, setCookie, cookie };
  }
  const withCookie = (cookie: string, query: string, headers: Record<string, string> = browser) =>
    stack.post(query, undefined, { cookie, ...headers });
  const state = async (kind: 'access_token' | 'refresh_token', token: string) =>
    (
      (await (
        await fetch(`${stack.sandbox.url}/__sandbox/token-state`, {
          method: 'POST',
          headers: { authorization: `Bearer ${stack.sandbox.appToken}` },
          body: JSON.stringify({ [kind]: token }),
        })
      ).json()) as { state: string }
    ).state;
  const audited = (event: string) =>
    stack.auditLines.map((line) => JSON.parse(line)).filter((e) => e.event === event);

  it('starts with one mint, sets the __Host- cookie and never answers a refresh token', async () => {
    const { response, field, setCookie, cookie } = await start();
    expect(response.status).toBe(200);
    expect(field.__typename).toBe('SessionToken');
    expect(field.communityMemberId).toBe('1');
    expect(Object.keys(field)).not.toContain('refreshToken');
    expect(setCookie).toMatch(
      /^__Host-circle-session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; Secure; HttpOnly; SameSite=Strict$/,
    );
    expect(response.headers.get('access-control-allow-origin')).toBe(page);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
    expect(cookie).not.toBe('');
    const started = audited('session.started');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ subject: { memberId: '1' } });
    expect(JSON.stringify(started)).not.toContain(cookie.split('=')[1]);
  });

  it('hands out the stored access token with no upstream call while it has more than the margin left', async () => {
    const { field, cookie } = await start();
    const again = await withCookie(cookie, TOKEN);
    expect(again.status).toBe(200);
    expect(again.body.data?.sessionToken).toEqual(field);
    expect(stack.sandbox.stats().calls).toMatchObject({ authToken: 1, refresh: 0 });
    const metrics = await stack.metrics?.registry.metrics();
    expect(metrics).toContain('gateway_upstream_calls_saved_total{reason="session"} 1');
  });

  it('refreshes near expiry: at once, or, when Circle refuses early refreshes, once the token has expired', async () => {
    const { field, cookie } = await start();
    stack.clock.advance(HOUR - 200_000); // 200 s left, inside the 300 s margin
    const near = (await withCookie(cookie, TOKEN)).body.data?.sessionToken as unknown as Field;
    expect(near.__typename).toBe('SessionToken');
    if (reading.refuseEarlyRefresh) {
      // Refused at Circle (422): the current token is handed out until it expires.
      expect(near.accessToken).toBe(field.accessToken);
      expect(stack.sandbox.stats().calls.refresh).toBe(1);
      const waiting = (await withCookie(cookie, TOKEN)).body.data?.sessionToken as unknown as Field;
      expect(waiting.accessToken).toBe(field.accessToken);
      expect(stack.sandbox.stats().calls.refresh).toBe(1); // not asked again before expiry
      stack.clock.advance(201_000);
    } else {
      expect(near.accessToken).not.toBe(field.accessToken);
      expect(stack.sandbox.stats().calls.refresh).toBe(1);
      stack.clock.advance(HOUR);
    }
    const later = (await withCookie(cookie, TOKEN)).body.data?.sessionToken as unknown as Field;
    expect(later.__typename).toBe('SessionToken');
    expect(later.accessToken).not.toBe(field.accessToken);
    expect(await state('access_token', later.accessToken)).toBe('live');
  });

  it('ends on sign-out: its access tokens and refresh token revoked at Circle, the cookie cleared', async () => {
    const { field, cookie } = await start();
    stack.clock.advance(HOUR - 100_000);
    const second = (await withCookie(cookie, TOKEN)).body.data?.sessionToken as unknown as Field;
    const ended = await withCookie(cookie, END);
    expect(ended.body.data?.endSession).toEqual({ __typename: 'TokenRevoked', revoked: true });
    expect(ended.headers.get('set-cookie')).toBe(
      '__Host-circle-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict',
    );
    expect(await state('access_token', field.accessToken)).toBe('revoked');
    expect(await state('access_token', second.accessToken)).toBe('revoked');
    expect(stack.sandbox.stats().calls.revokeRefresh).toBe(1);
    const after = await withCookie(cookie, TOKEN);
    expect(after.body.data?.sessionToken).toEqual({
      __typename: 'NoSession',
      code: 'NO_SESSION',
      message: 'There is no live session: start one with startSession.',
    });
    expect(audited('session.ended')).toMatchObject([{ reason: 'signed_out', subject: { memberId: '1' } }]);
    const again = await withCookie(cookie, END);
    expect(again.body.data?.endSession).toMatchObject({ code: 'NO_SESSION' });
    expect(again.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  it('keeps a refresh token another live session holds, and revokes it with the last one', async () => {
    const first = await start();
    const second = await start();
    expect(second.cookie).not.toBe(first.cookie);
    expect(stack.sandbox.stats().calls.authToken).toBe(2);
    await withCookie(first.cookie, END);
    // The second session still works through a refresh (after expiry, for the strict reading).
    stack.clock.advance(HOUR + 1000);
    const still = (await withCookie(second.cookie, TOKEN)).body.data?.sessionToken as unknown as Field;
    expect(still.__typename).toBe('SessionToken');
    await withCookie(second.cookie, END);
    expect(stack.sandbox.stats().calls.revokeRefresh).toBe(reading.reuseRefreshTokens ? 1 : 2);
    expect(await state('access_token', still.accessToken)).toBe('revoked');
  });

  it('ends an idle session on its next touch and by the sweep, revoking its tokens', async () => {
    const one = await start();
    const two = await start();
    stack.clock.advance(sessions.idleTimeoutS * 1000 + 1000);
    const touched = await withCookie(one.cookie, TOKEN);
    expect(touched.body.data?.sessionToken).toEqual({
      __typename: 'NoSession',
      code: 'NO_SESSION',
      message: 'The session has ended: start a new one with startSession.',
    });
    expect(touched.headers.get('set-cookie')).toContain('Max-Age=0');
    expect(await stack.gateway.sessions?.sweep()).toBe(1);
    expect(audited('session.ended').map((e) => e.reason)).toEqual(['idle', 'idle']);
    expect(await state('access_token', two.field.accessToken)).toBe('expired');
    expect(stack.sandbox.stats().calls.revokeRefresh).toBe(reading.reuseRefreshTokens ? 1 : 2);
  });

  it('ends a busy session at its maximum age', async () => {
    const { cookie } = await start();
    // Touched every 5 hours (inside the idle timeout) for a week and a bit.
    for (let hours = 5; hours < 24 * 7; hours += 5) {
      stack.clock.advance(5 * HOUR);
      expect((await withCookie(cookie, TOKEN)).body.data?.sessionToken).toMatchObject({
        __typename: 'SessionToken',
      });
    }
    stack.clock.advance(5 * HOUR);
    expect((await withCookie(cookie, TOKEN)).body.data?.sessionToken).toMatchObject({ code: 'NO_SESSION' });
    expect(audited('session.ended').map((e) => e.reason)).toEqual(['max_age']);
  });

  it('ends a session whose refresh token Circle no longer knows (NO_SESSION, audited)', async () => {
    const { cookie } = await start();
    stack.sandbox.simulator.removeMember(1);
    stack.clock.advance(HOUR + 1000);
    const after = await withCookie(cookie, TOKEN);
    expect(after.body.data?.sessionToken).toEqual({
      __typename: 'NoSession',
      code: 'NO_SESSION',
      message: 'The session has ended: Circle no longer accepts its refresh token.',
    });
    expect(audited('session.ended')).toMatchObject([{ reason: 'refresh_token_revoked' }]);
  });

  it('ends every session of a member for a backend, found by email in any case, without calling Circle', async () => {
    const one = await start();
    const two = await start();
    const mintsBefore = stack.sandbox.stats().calls.authToken;
    const ended = await stack.post(
      'mutation { endMemberSessions(by: EMAIL, value: "ADA@example.com") { __typename ... on SessionsEnded { ended } ... on Error { code message } } }',
      undefined,
      { 'x-api-key': apiKey },
    );
    expect(ended.body.data?.endMemberSessions).toEqual({ __typename: 'SessionsEnded', ended: 2 });
    expect(stack.sandbox.stats().calls.authToken).toBe(mintsBefore);
    for (const session of [one, two]) {
      expect((await withCookie(session.cookie, TOKEN)).body.data?.sessionToken).toMatchObject({
        code: 'NO_SESSION',
      });
      expect(await state('access_token', session.field.accessToken)).toBe('revoked');
    }
    expect(audited('session.ended').map((e) => e.reason)).toEqual(['ended_by_backend', 'ended_by_backend']);
  });
});

describe('who may do what with sessions', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await sessionsStack();
  });
  afterEach(() => stack.close());

  const startWith = async (headers: Record<string, string>) =>
    stack.post(START, undefined, {
      authorization: `Bearer ${await signMemberJwt(ada, 'sso-ada')}`,
      ...headers,
    });

  it('refuses to start a session for an API key, without credentials, or without the browser rules', async () => {
    const backend = await stack.post(START, undefined, { 'x-api-key': apiKey, ...browser });
    expect(backend.body.data?.startSession).toEqual({
      __typename: 'Forbidden',
      code: 'FORBIDDEN',
      message: 'Only a member signed in with a JWT can start a session: API-key callers cannot.',
    });
    const anonymous = await stack.post(START, undefined, browser);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const noHeader = await startWith({ origin: page });
    expect(noHeader.body.data?.startSession).toEqual({
      __typename: 'Forbidden',
      code: 'FORBIDDEN',
      message: 'A request with the session cookie must carry the header x-circle-csrf: 1.',
    });
    const stranger = await startWith({ origin: 'http://localhost:6000', 'x-circle-csrf': '1' });
    expect(stranger.body.data?.startSession).toMatchObject({ code: 'FORBIDDEN' });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });

  it('answers 403 before reading the body to a cookie request that breaks a browser rule, and audits it', async () => {
    const started = await startWith(browser);
    const cookie = /^([^;]+);/.exec(started.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const cases: [string, RequestInit, string][] = [
      [
        'no CSRF header',
        {
          method: 'POST',
          headers: { cookie, origin: page, 'content-type': 'application/json' },
          body: JSON.stringify({ query: TOKEN }),
        },
        'A request with the session cookie must carry the header x-circle-csrf: 1.',
      ],
      [
        'a form post',
        {
          method: 'POST',
          headers: { cookie, origin: page, 'content-type': 'application/x-www-form-urlencoded' },
          body: `query=${encodeURIComponent(TOKEN)}`,
        },
        'A request with the session cookie must be sent as application/json.',
      ],
      [
        'text/plain',
        {
          method: 'POST',
          headers: { cookie, origin: page, 'content-type': 'text/plain', 'x-circle-csrf': '1' },
          body: JSON.stringify({ query: TOKEN }),
        },
        'A request with the session cookie must be sent as application/json.',
      ],
      [
        'GET',
        { method: 'GET', headers: { cookie, accept: 'application/json' } },
        'A request with the session cookie must be a POST.',
      ],
      [
        'an origin not listed',
        {
          method: 'POST',
          headers: {
            cookie,
            origin: 'http://localhost:6000',
            'content-type': 'application/json',
            'x-circle-csrf': '1',
          },
          body: JSON.stringify({ query: TOKEN }),
        },
        'A request with the session cookie must come from an origin listed in CORS_ORIGINS.',
      ],
    ];
    const calls = stack.sandbox.stats().calls;
    for (const [, init, message] of cases) {
      const path = init.method === 'GET' ? `/graphql?query=${encodeURIComponent(TOKEN)}` : '/graphql';
      const response = await stack.fetch(path, init);
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ errors: [{ message, extensions: { code: 'FORBIDDEN' } }] });
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(stack.sandbox.stats().calls).toEqual(calls);
    const refused = stack.auditLines
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === 'auth.refused');
    expect(refused.map((e) => e.reason)).toEqual([
      'csrf_header_missing',
      'content_type_not_json',
      'content_type_not_json',
      'method_not_allowed',
      'origin_not_allowed',
    ]);
    expect(refused[0]).toMatchObject({
      credential: 'cookie',
      source: expect.stringMatching(/^hmac-sha256:/),
    });
  });

  it('refuses a session cookie sent with an API key (401, audited)', async () => {
    const started = await startWith(browser);
    const cookie = /^([^;]+);/.exec(started.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const both = await stack.post(TOKEN, undefined, { cookie, ...browser, 'x-api-key': apiKey });
    expect(both.status).toBe(401);
    expect(both.body.errors?.[0]?.message).toBe('Send either the session cookie or an API key, not both.');
    const refused = stack.auditLines
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === 'auth.refused');
    expect(refused).toMatchObject([{ credential: 'cookie', reason: 'with_api_key' }]);
  });

  it('gives a session caller sessionToken, never memberToken; a cookie with a JWT runs startSession alone', async () => {
    const started = await startWith(browser);
    const cookie = /^([^;]+);/.exec(started.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const member = await stack.post(
      `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`,
      undefined,
      { cookie, ...browser },
    );
    expect(member.body.data?.memberToken).toMatchObject({
      __typename: 'Forbidden',
      message:
        'A session gets its access token from sessionToken: member tokens carry a refresh token, which stays on the server.',
    });
    const both = await stack.post(TOKEN, undefined, {
      cookie,
      ...browser,
      authorization: `Bearer ${await signMemberJwt(ada, 'sso-ada')}`,
    });
    expect(both.status).toBe(403);
    expect(both.body.errors?.[0]?.message).toBe(
      'Send either the session cookie or a bearer token, not both: only startSession takes both (it replaces the session).',
    );
    const replaced = await startWith({ cookie, ...browser });
    expect(replaced.body.data?.startSession).toMatchObject({ __typename: 'SessionToken' });
    const old = await stack.post(TOKEN, undefined, { cookie, ...browser });
    expect(old.body.data?.sessionToken).toMatchObject({ code: 'NO_SESSION' });
    const ended = stack.auditLines.map((line) => JSON.parse(line)).filter((e) => e.event === 'session.ended');
    expect(ended.map((e) => e.reason)).toEqual(['replaced']);
  });
});

describe('the sweep, on its timer', () => {
  it('ends an idle session by itself every SESSION_SWEEP_INTERVAL_S, its tokens revoked', async () => {
    const stack = await sessionsStack({}, { ...sessions, sweepIntervalS: 1 });
    try {
      const started = await stack.post(START, undefined, {
        authorization: `Bearer ${await signMemberJwt(ada, 'sso-ada')}`,
        ...browser,
      });
      expect(started.body.data?.startSession).toMatchObject({ __typename: 'SessionToken' });
      stack.clock.advance(sessions.idleTimeoutS * 1000 + 1000);
      const ended = () =>
        stack.auditLines.map((line) => JSON.parse(line)).filter((e) => e.event === 'session.ended');
      await expect.poll(ended, { timeout: 5000 }).toMatchObject([{ reason: 'idle' }]);
      expect(stack.sandbox.stats().calls.revokeRefresh).toBe(1);
    } finally {
      await stack.close();
    }
  });
});

describe('SESSIONS=required', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await sessionsStack({}, { ...sessions, mode: 'required' });
  });
  afterEach(() => stack.close());

  it('hands no refresh token to a member JWT, and keeps backends working', async () => {
    const query = `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;
    const member = await stack.post(query, undefined, {
      authorization: `Bearer ${await signMemberJwt(ada, 'sso-ada')}`,
    });
    expect(member.body.data?.memberToken).toEqual({
      __typename: 'Forbidden',
      code: 'FORBIDDEN',
      message:
        'Refresh tokens stay on the server here (SESSIONS=required): call startSession, then sessionToken.',
    });
    const entity = await stack.post(
      `{ _entities(representations: [{ __typename: "CircleMember", email: "ada@example.com" }]) { ... on CircleMember { token { __typename ... on Error { code message } } } } }`,
      undefined,
      { authorization: `Bearer ${await signMemberJwt(ada, 'sso-ada')}` },
    );
    expect(JSON.stringify(entity.body)).toContain('SESSIONS=required');
    const backend = await stack.post(query, undefined, { 'x-api-key': apiKey });
    expect(backend.body.data?.memberToken).toMatchObject({ __typename: 'MemberToken' });
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
  });
});
