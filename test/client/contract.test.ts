import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CircleClient, createClient } from '../../src/client/sdk.js';
import { expectations } from '../support/contract-expectations.js';
import { documentedResponses } from '../support/openapi.js';

const origin = 'https://circle.test';
const appToken = 'app-token-for-contract-tests';
const refreshToken = 'jaebyVK59l5xxAx1D4pM8H-wYyFA6gMC12RGYZcy44w';
const accessToken = 'eyJhbGciOiJIUzI1NiJ9.eyJjb21tdW5pdHlfaWQiOjF9.sig';

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

let agent: MockAgent;
let client: CircleClient;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = createClient({ appToken, baseURL: origin, dispatcher: agent, rateLimitBackoffSeconds: 0 });
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

function answer(path: string, method: string, status: number, value: unknown): Captured[] {
  const captured: Captured[] = [];
  agent
    .get(origin)
    .intercept({ path, method })
    .reply((options) => {
      captured.push({
        method: options.method,
        path: options.path,
        headers: Object.fromEntries(
          Object.entries(options.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
        ),
        body: JSON.parse(String(options.body)),
      });
      return {
        statusCode: status,
        data: value === undefined ? '' : JSON.stringify(value),
        responseOptions: { headers: { 'content-type': 'application/json' } },
      };
    });
  return captured;
}

/** The client call for an endpoint, and the body it must send. */
const calls: Record<string, { run: (c: CircleClient) => Promise<unknown>; body: unknown }> = {
  'POST /api/v1/headless/auth_token': {
    run: (c) => c.api.issueMemberToken({ email: 'ada@example.com' }),
    body: { email: 'ada@example.com' },
  },
  'PATCH /api/v1/headless/access_token/refresh': {
    run: (c) => c.api.refreshAccessToken(refreshToken),
    body: { refresh_token: refreshToken },
  },
  'POST /api/v1/headless/refresh_token/revoke': {
    run: (c) => c.api.revokeRefreshToken(refreshToken),
    body: { refresh_token: refreshToken },
  },
  'POST /api/v1/headless/access_token/revoke': {
    run: (c) => c.api.revokeAccessToken(accessToken),
    body: { access_token: accessToken },
  },
};

describe('contract with the OpenAPI file', () => {
  const rows = documentedResponses();

  it('has an expectation for every documented answer, and no stale one', () => {
    const documented = rows.map((r) => `${r.method} ${r.path} ${r.status} ${r.example}`).sort();
    expect(documented).toEqual(Object.keys(expectations).sort());
    expect(documented.length).toBe(29);
  });

  for (const row of rows) {
    const key = `${row.method} ${row.path} ${row.status} ${row.example}`;
    const expected = expectations[key];
    it(`${key} → ${expected}`, async () => {
      const call = calls[`${row.method} ${row.path}`];
      if (!call) throw new Error(`no client call for ${row.method} ${row.path}`);
      const captured = answer(row.path, row.method, row.status, row.value);
      const outcome = await call.run(client).then(
        (value) => ({ code: 'ok', value }),
        (error: { code: string; message: string; status?: number }) => ({ code: error.code, error }),
      );

      expect(captured).toHaveLength(1);
      const request = captured[0];
      expect(request?.method).toBe(row.method);
      expect(request?.path).toBe(row.path);
      expect(request?.headers.authorization).toBe(`Bearer ${appToken}`);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.body).toEqual(call.body);

      expect(outcome.code).toBe(expected);
      if ('value' in outcome && row.status === 200) expect(outcome.value).toEqual(row.value);
      if ('value' in outcome && row.status === 204) expect(outcome.value).toBeUndefined();
      if ('error' in outcome) {
        expect(outcome.error.status).toBe(row.status);
        expect(outcome.error.message).not.toContain(refreshToken);
        expect(outcome.error.message).not.toContain(accessToken);
        expect(outcome.error.message).not.toContain(appToken);
        expect(outcome.error.message).not.toContain((row.value as { message: string }).message);
      }
    });
  }
});

describe('request bodies for each identifier', () => {
  it('sends community_member_id as a JSON integer', async () => {
    const ok = documentedResponses().find((r) => r.path.endsWith('auth_token') && r.status === 200);
    const captured = answer('/api/v1/headless/auth_token', 'POST', 200, ok?.value);
    await client.getMemberAPITokenFromCommunityMemberId(42);
    expect(captured[0]?.body).toStrictEqual({ community_member_id: 42 });
  });

  it('sends the SSO id as sso_user_id, the OpenAPI name', async () => {
    const ok = documentedResponses().find((r) => r.path.endsWith('auth_token') && r.status === 200);
    const captured = answer('/api/v1/headless/auth_token', 'POST', 200, ok?.value);
    await client.getMemberAPITokenFromSSOId('f7b98eb73f7d0d44');
    expect(captured[0]?.body).toStrictEqual({ sso_user_id: 'f7b98eb73f7d0d44' });
  });
});

describe('SDK-compatible methods', () => {
  const tokenRow = documentedResponses().find((r) => r.path.endsWith('auth_token') && r.status === 200);

  it('getMemberAPITokenFromEmail resolves to the snake_case member token', async () => {
    answer('/api/v1/headless/auth_token', 'POST', 200, tokenRow?.value);
    await expect(client.getMemberAPITokenFromEmail('ada@example.com')).resolves.toStrictEqual(
      tokenRow?.value,
    );
  });

  it('getMemberAPITokenFromRefreshToken resolves to access_token and access_token_expires_at', async () => {
    answer('/api/v1/headless/access_token/refresh', 'PATCH', 200, {
      access_token: 'eyJ.a.b',
      access_token_expires_at: '2024-03-20T16:54:47.274Z',
    });
    await expect(client.getMemberAPITokenFromRefreshToken(refreshToken)).resolves.toStrictEqual({
      access_token: 'eyJ.a.b',
      access_token_expires_at: '2024-03-20T16:54:47.274Z',
    });
  });

  it('getMemberAPIToken* reject with a typed error', async () => {
    answer('/api/v1/headless/auth_token', 'POST', 404, {
      success: false,
      message: 'Community member not found.',
      error_details: {},
    });
    await expect(client.getMemberAPITokenFromEmail('nobody@example.com')).rejects.toMatchObject({
      code: 'MEMBER_NOT_FOUND',
      message: 'Circle has no community member with that identifier.',
      upstreamMessage: 'Community member not found.',
    });
  });

  it('revokeRefreshToken and revokeMemberAPIToken resolve to null on success', async () => {
    answer('/api/v1/headless/refresh_token/revoke', 'POST', 204, undefined);
    answer('/api/v1/headless/access_token/revoke', 'POST', 204, undefined);
    await expect(client.revokeRefreshToken(refreshToken)).resolves.toBeNull();
    await expect(client.revokeMemberAPIToken(accessToken)).resolves.toBeNull();
  });

  it('revokes resolve to { success: false, message } with Circle’s message when Circle answers an error', async () => {
    answer('/api/v1/headless/refresh_token/revoke', 'POST', 404, {
      success: false,
      message: 'Refresh token not found.',
      error_details: {},
    });
    answer('/api/v1/headless/access_token/revoke', 'POST', 422, {
      success: false,
      message: 'The access token is expired.',
      error_details: {},
    });
    await expect(client.revokeRefreshToken(refreshToken)).resolves.toStrictEqual({
      success: false,
      message: 'Refresh token not found.',
    });
    await expect(client.revokeMemberAPIToken(accessToken)).resolves.toStrictEqual({
      success: false,
      message: 'The access token is expired.',
    });
  });
});
