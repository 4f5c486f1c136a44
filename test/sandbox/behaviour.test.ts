import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMembers } from '../../src/config/sandbox-members.js';
import { ManualClock, type Sandbox, startSandbox } from '../../src/sandbox/server.js';

let sandbox: Sandbox;
const clock = new ManualClock();

beforeAll(async () => {
  sandbox = await startSandbox({ clock });
});
afterAll(() => sandbox.close());

async function circle(path: string, body: unknown, method = 'POST', token = sandbox.appToken) {
  const response = await fetch(`${sandbox.url}/api/v1/headless/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.url}/__sandbox/${path}`, {
    method,
    headers: { authorization: `Bearer ${sandbox.appToken}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

describe('token formats', () => {
  it('mints HS256 access tokens with exactly Circle’s claims and a one-hour life', async () => {
    const before = clock.now();
    const { status, body } = await circle('auth_token', { email: 'ada@example.com' });
    expect(status).toBe(200);
    const accessToken = String(body?.access_token);
    expect(decodeProtectedHeader(accessToken)).toStrictEqual({ alg: 'HS256' });
    const claims = decodeJwt(accessToken);
    expect(Object.keys(claims).sort()).toEqual([
      'community_id',
      'community_member_id',
      'exp',
      'jti',
      'sso_user_id',
    ]);
    expect(claims).toMatchObject({ community_id: 1, community_member_id: 1, sso_user_id: 'sso-ada' });
    expect(claims.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number(claims.exp) * 1000).toBeGreaterThanOrEqual(Math.floor((before + 3600_000) / 1000) * 1000);
    expect(Number(claims.exp) * 1000).toBeLessThanOrEqual(clock.now() + 3600_000);
    expect(String(body?.refresh_token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(String(body?.access_token_expires_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const refreshLife = Date.parse(String(body?.refresh_token_expires_at)) - before;
    expect(refreshLife).toBeGreaterThanOrEqual(30 * 24 * 3600_000);
    expect(refreshLife).toBeLessThan(30 * 24 * 3600_000 + 60_000);
  });
});

describe('identifiers', () => {
  it('accepts sso_user_id and the docs’ sso_id alike', async () => {
    expect((await circle('auth_token', { sso_user_id: 'sso-grace' })).body?.community_member_id).toBe(2);
    expect((await circle('auth_token', { sso_id: 'sso-grace' })).body?.community_member_id).toBe(2);
  });

  it('uses Circle’s priority: SSO id, then member id, then email', async () => {
    const all = await circle('auth_token', {
      email: 'ada@example.com',
      community_member_id: 3,
      sso_user_id: 'sso-grace',
    });
    expect(all.body?.community_member_id).toBe(2);
    const idAndEmail = await circle('auth_token', { email: 'ada@example.com', community_member_id: 3 });
    expect(idAndEmail.body?.community_member_id).toBe(3);
  });

  it('answers a missing identifier with Circle’s missing-parameter 404', async () => {
    const { status, body } = await circle('auth_token', {});
    expect(status).toBe(404);
    expect(body?.message).toBe('Oops! Missing parameter. Please try again later.');
  });

  it('answers malformed JSON as a missing parameter', async () => {
    expect((await circle('refresh_token/revoke', '{"refresh_token":')).status).toBe(404);
  });
});

describe('token lifecycle', () => {
  it('refresh returns a new access token and keeps the refresh token valid', async () => {
    const issued = await circle('auth_token', { email: 'alan@example.com' });
    const first = await circle(
      'access_token/refresh',
      { refresh_token: issued.body?.refresh_token },
      'PATCH',
    );
    const second = await circle(
      'access_token/refresh',
      { refresh_token: issued.body?.refresh_token },
      'PATCH',
    );
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(Object.keys(first.body ?? {}).sort()).toEqual(['access_token', 'access_token_expires_at']);
    expect(first.body?.access_token).not.toBe(issued.body?.access_token);
  });

  it('refresh is PATCH only: a POST to the same path is a 404', async () => {
    const issued = await circle('auth_token', { email: 'alan@example.com' });
    expect((await circle('access_token/refresh', { refresh_token: issued.body?.refresh_token })).status).toBe(
      404,
    );
  });

  it('revoking a refresh token leaves earlier access tokens alive', async () => {
    const issued = await circle('auth_token', { email: 'katherine@example.com' });
    expect((await circle('refresh_token/revoke', { refresh_token: issued.body?.refresh_token })).status).toBe(
      204,
    );
    const refreshed = await circle(
      'access_token/refresh',
      { refresh_token: issued.body?.refresh_token },
      'PATCH',
    );
    expect(refreshed).toMatchObject({ status: 404, body: { message: 'Refresh token not found.' } });
    expect((await circle('access_token/revoke', { access_token: issued.body?.access_token })).status).toBe(
      204,
    );
  });

  it('expires access tokens after an hour and refresh tokens after 30 days, by the injected clock', async () => {
    const local = new ManualClock();
    const other = await startSandbox({ clock: local });
    try {
      const post = (path: string, body: unknown, method = 'POST') =>
        fetch(`${other.url}/api/v1/headless/${path}`, {
          method,
          headers: { authorization: `Bearer ${other.appToken}` },
          body: JSON.stringify(body),
        });
      const issued = (await (await post('auth_token', { community_member_id: 1 })).json()) as Record<
        string,
        string
      >;
      local.advance(3600_000 + 1000);
      const revoke = await post('access_token/revoke', { access_token: issued.access_token });
      expect(await revoke.json()).toMatchObject({ message: 'The access token is expired.' });
      expect(
        (await post('access_token/refresh', { refresh_token: issued.refresh_token }, 'PATCH')).status,
      ).toBe(200);
      local.advance(30 * 24 * 3600_000);
      expect(
        (await post('access_token/refresh', { refresh_token: issued.refresh_token }, 'PATCH')).status,
      ).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('admin routes (sandbox only)', () => {
  it('refuses callers without the sandbox app token', async () => {
    const response = await fetch(`${sandbox.url}/__sandbox/stats`);
    expect(response.status).toBe(401);
  });

  it('sets faults at run time and rejects bad ones with a clear message', async () => {
    expect((await admin('PUT', 'faults', { rateLimitBurst: 1, rateLimitRetryAfterSeconds: 7 })).status).toBe(
      200,
    );
    const limited = await fetch(`${sandbox.url}/api/v1/headless/auth_token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.appToken}` },
      body: '{"email":"ada@example.com"}',
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await circle('auth_token', { email: 'ada@example.com' })).status).toBe(200);
    const bad = await admin('PUT', 'faults', { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body?.message).toBe('invalid faults: errorRate: Too big: expected number to be <=1');
    await admin('PUT', 'faults', {});
  });

  it('counts calls per endpoint and the most requests in flight at once', async () => {
    await admin('DELETE', 'stats');
    sandbox.setFaults({ latencyMs: 100 });
    await Promise.all(Array.from({ length: 6 }, () => circle('auth_token', { email: 'ada@example.com' })));
    sandbox.setFaults({});
    const { body } = await admin('GET', 'stats');
    expect(body).toMatchObject({ calls: { authToken: 6, refresh: 0 }, maxInFlight: 6, inFlight: 0 });
  });

  it('moves the clock forward', async () => {
    const before = clock.now();
    const { body } = await admin('POST', 'clock', { advanceMs: 60_000 });
    expect(Date.parse(String(body?.now))).toBeGreaterThanOrEqual(before + 60_000);
  });
});

describe('members file', () => {
  it('loads members from JSON and says what is wrong with a bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'members-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([{ id: 9, email: 'nine@example.com', ssoId: 'sso-9', name: 'Nine' }]));
    expect(loadMembers(good)).toStrictEqual([
      { id: 9, email: 'nine@example.com', ssoId: 'sso-9', name: 'Nine' },
    ]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ id: 0, email: 'x@example.com', ssoId: 's' }]));
    expect(() => loadMembers(bad)).toThrow(
      `sandbox members file ${bad}: expected an array of {id, email, ssoId, name}; 0.id: Too small: expected number to be >=1`,
    );
  });
});

describe('bounded state', () => {
  it('forgets the oldest refresh tokens past maxStoredTokens, which then answer as unknown', async () => {
    const small = await startSandbox({ maxStoredTokens: 2 });
    try {
      const issue = async () => {
        const response = await fetch(`${small.url}/api/v1/headless/auth_token`, {
          method: 'POST',
          headers: { authorization: `Bearer ${small.appToken}` },
          body: '{"community_member_id":1}',
        });
        return ((await response.json()) as { refresh_token: string }).refresh_token;
      };
      const refresh = (token: string) =>
        fetch(`${small.url}/api/v1/headless/access_token/refresh`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${small.appToken}` },
          body: JSON.stringify({ refresh_token: token }),
        }).then((r) => r.status);
      const [first, second, third] = [await issue(), await issue(), await issue()];
      expect(await refresh(first)).toBe(404);
      expect(await refresh(second)).toBe(200);
      expect(await refresh(third)).toBe(200);
    } finally {
      await small.close();
    }
  });
});
