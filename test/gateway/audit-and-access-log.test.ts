import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import { memberTokenFields, type Stack, startStack, testRateLimits } from '../support/stack.js';

/**
 * The audit trail after a scripted session holds exactly the expected events, in order, with the
 * subject as Circle's member id or a keyed hash (never an email or a token); and every request has
 * one access-log line with its caller's name, never its key.
 */
const apiKey = 'audit-test-api-key-0123456789';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['billing', apiKey]]), jwt: testJwt },
      rateLimits: { ...testRateLimits, perMemberPerMinute: 2 },
    },
  });
});
afterAll(() => stack.close());

const asBackend = { 'x-api-key': apiKey };
const token = (email: string) => `memberToken(by: EMAIL, value: "${email}") { ${memberTokenFields} }`;

describe('the audit trail', () => {
  it('holds exactly the events of a scripted session, in order, and no secret', async () => {
    const started = Date.now();
    const issued = await stack.post(`{ ${token('Ada@Example.com')} }`, undefined, asBackend);
    const ada = issued.body.data?.memberToken as { refreshToken: string; accessToken: string };
    await stack.post(`mutation { refreshToken(refreshToken: "${ada.refreshToken}") { __typename } }`);
    await stack.post(`{ ${token('nobody@example.com')} }`, undefined, asBackend); // not audited
    await stack.post(`{ ${token('grace@example.com')} }`); // no credentials
    const member = await signMemberJwt({ email: 'alan@example.com', email_verified: true }, 'sso-alan');
    await stack.post(`{ ${token('grace@example.com')} }`, undefined, { authorization: `Bearer ${member}` });
    await stack.post(
      `{ a: ${token('alan@example.com')} b: ${token('alan@example.com')} c: ${token('alan@example.com')} }`,
      undefined,
      {
        authorization: `Bearer ${member}`,
      },
    );
    await stack.post(`mutation { revokeRefreshToken(refreshToken: "${ada.refreshToken}") { __typename } }`);
    await stack.post(`mutation { revokeAccessToken(accessToken: "${ada.accessToken}") { __typename } }`);

    const written = stack.auditLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // Requests are in order; the three aliases of one request in the order they settled (a refusal
    // at admission can come before the tokens): compare that request's events by outcome.
    const aliases = written
      .slice(4, 7)
      .sort((x, y) => Number(x.outcome !== 'ok') - Number(y.outcome !== 'ok'));
    expect(new Set(written.slice(4, 7).map((e) => e.requestId)).size).toBe(1);
    const events = [...written.slice(0, 4), ...aliases, ...written.slice(7)];
    const graceHash = events[2]?.subject as { hash: string };
    expect(
      events.map(({ event, operation, outcome, caller, subject }) => ({
        event,
        operation,
        outcome,
        caller,
        subject,
      })),
    ).toEqual([
      {
        event: 'token.issued',
        operation: 'issue',
        outcome: 'ok',
        caller: { kind: 'backend', name: 'billing' },
        subject: { memberId: '1' },
      },
      {
        event: 'token.refreshed',
        operation: 'refresh',
        outcome: 'ok',
        caller: { kind: 'anonymous' },
        subject: { hash: expect.stringMatching(/^hmac-sha256:[\w-]{22}$/) },
      },
      {
        event: 'token.refused',
        operation: 'issue',
        outcome: 'UNAUTHENTICATED',
        caller: { kind: 'anonymous' },
        subject: { hash: expect.stringMatching(/^hmac-sha256:/) },
      },
      {
        event: 'token.refused',
        operation: 'issue',
        outcome: 'FORBIDDEN',
        caller: { kind: 'member' },
        subject: graceHash,
      },
      {
        event: 'token.issued',
        operation: 'issue',
        outcome: 'ok',
        caller: { kind: 'member' },
        subject: { memberId: '3' },
      },
      {
        event: 'token.issued',
        operation: 'issue',
        outcome: 'ok',
        caller: { kind: 'member' },
        subject: { memberId: '3' },
      },
      {
        event: 'token.refused',
        operation: 'issue',
        outcome: 'RATE_LIMITED',
        caller: { kind: 'member' },
        subject: { hash: expect.stringMatching(/^hmac-sha256:/) },
      },
      {
        event: 'token.revoked',
        operation: 'revoke_refresh',
        outcome: 'ok',
        caller: { kind: 'anonymous' },
        subject: { hash: expect.stringMatching(/^hmac-sha256:/) },
      },
      {
        event: 'token.revoked',
        operation: 'revoke_access',
        outcome: 'ok',
        caller: { kind: 'anonymous' },
        subject: { hash: expect.stringMatching(/^hmac-sha256:/) },
      },
    ]);
    // The same identifier hashes alike (both refusals were for grace, any case), tokens differently.
    expect(graceHash).toEqual(events[3]?.subject);
    expect(events[1]?.subject).toEqual(events[7]?.subject);
    expect(events[7]?.subject).not.toEqual(events[8]?.subject);
    for (const event of events) {
      expect(event).toMatchObject({
        log: 'audit',
        requestId: expect.any(String),
        replica: expect.stringMatching(/:\d+$/),
      });
      // ISO 8601 in UTC, to the millisecond, within the session.
      expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(String(event.time))).toBeGreaterThanOrEqual(started);
      expect(Date.parse(String(event.time))).toBeLessThanOrEqual(Date.now());
    }
    // In the order they were recorded, so never going back.
    const times = written.map((event) => Date.parse(String(event.time)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const text = stack.auditLines.join('\n');
    for (const value of [
      ada.refreshToken,
      ada.accessToken,
      member,
      apiKey,
      'ada@example.com',
      'grace@example.com',
      'alan@example.com',
      'sso-alan',
    ]) {
      expect(text.toLowerCase()).not.toContain(value.toLowerCase());
    }
  });
});

describe('the access log', () => {
  it('has one line per request with its id, operation, status, duration, caller name and upstream calls', async () => {
    const before = stack.logLines.length;
    const response = await stack.post(
      `query Lookup { a: ${token('katherine@example.com')} b: ${token('katherine@example.com')} }`,
      undefined,
      { ...asBackend, 'x-request-id': 'access-log-1' },
    );
    expect(response.status).toBe(200);
    const lines = stack.logLines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = lines.filter((line) => line.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 30,
      requestId: response.headers.get('x-request-id'),
      callerRequestId: 'access-log-1',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'Lookup',
      caller: { kind: 'backend', name: 'billing' },
      upstreamCalls: 1,
      durationMs: expect.any(Number),
    });
    expect(JSON.stringify(access[0])).not.toContain(apiKey);
    expect(JSON.stringify(access[0])).not.toContain('katherine');
  });

  it('names only the gateway’s own paths: any other is the caller’s text', async () => {
    const before = stack.logLines.length;
    const response = await stack.gateway.fetch('http://gateway/members/ada@example.com?token=secret-in-url', {
      headers: { 'x-request-id': 'access-log-2' },
    });
    expect(response.status).toBe(404);
    const lines = stack.logLines.slice(before).filter((line) => line.includes('"access-log-2"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: 'request', path: 'other', status: 404 });
    expect(lines[0]).not.toContain('ada@example.com');
    expect(lines[0]).not.toContain('secret-in-url');
  });
});
