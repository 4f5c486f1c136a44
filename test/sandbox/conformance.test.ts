import { randomBytes, randomUUID } from 'node:crypto';
import { Ajv } from 'ajv';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CircleClient, createClient } from '../../src/client/sdk.js';
import { ManualClock, type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { expectations } from '../support/contract-expectations.js';
import { documentedResponses, openapi } from '../support/openapi.js';

/**
 * The client's contract suite against the sandbox: every documented answer is produced by driving
 * the sandbox into that state, the sandbox's body must equal the OpenAPI example (message texts
 * included) and validate against the OpenAPI schema, and the client must map it as it maps the
 * HTTP-level fake. Circle-side failures that no request can provoke (422 "Record invalid",
 * "JWT::EncodeError", "RecordNotDestroyed") are replayed through the sandbox's `raw` fault.
 */

const answers: Array<{ path: string; status: number; body: string }> = [];
let sandbox: Sandbox;
let client: CircleClient;
let adminClient: CircleClient;
let wrongClient: CircleClient;
const HOUR = 3600_000;
const jwtSecret = randomBytes(32);
const clock = new ManualClock();
const DAY = 24 * HOUR;

const ajv = new Ajv({ strict: false });
for (const [name, schema] of Object.entries(openapi.components.schemas)) {
  ajv.addSchema(schema as object, `#/components/schemas/${name}`);
}

beforeAll(async () => {
  sandbox = await startSandbox({ clock, jwtSecret, onAnswer: (answer) => answers.push(answer) });
  client = createClient({ appToken: sandbox.appToken, baseURL: sandbox.url, rateLimitBackoffSeconds: 0 });
  adminClient = createClient({ appToken: sandbox.adminToken, baseURL: sandbox.url });
  wrongClient = createClient({ appToken: 'not-the-app-token', baseURL: sandbox.url });
});
afterAll(async () => {
  await Promise.all([client.close(), adminClient.close(), wrongClient.close()]);
  await sandbox.close();
});

const issue = () => client.api.issueMemberToken({ email: 'ada@example.com' });
const replay = (status: number, value: unknown) =>
  sandbox.setFaults({ queue: [{ kind: 'raw', status, body: JSON.stringify(value) }] });

/** How to make the sandbox give each documented answer. */
const scenarios: Record<string, (value: unknown) => Promise<unknown>> = {
  'POST /api/v1/headless/auth_token 200 success': () => issue(),
  'POST /api/v1/headless/auth_token 401 unauthorized': () =>
    wrongClient.api.issueMemberToken({ email: 'ada@example.com' }),
  'POST /api/v1/headless/auth_token 403 forbidden': () =>
    adminClient.api.issueMemberToken({ email: 'ada@example.com' }),
  'POST /api/v1/headless/auth_token 404 member_not_found': () =>
    client.api.issueMemberToken({ email: 'nobody@example.com' }),
  'POST /api/v1/headless/auth_token 422 unprocessable_entity': (value) => {
    replay(422, value);
    return issue();
  },
  'PATCH /api/v1/headless/access_token/refresh 200 success': async () =>
    client.api.refreshAccessToken((await issue()).refresh_token),
  'PATCH /api/v1/headless/access_token/refresh 200 access_token_not_required': async () =>
    client.api.refreshAccessToken((await issue()).refresh_token),
  'PATCH /api/v1/headless/access_token/refresh 404 not_found_error': () =>
    client.api.refreshAccessToken('no-such-refresh-token'),
  'PATCH /api/v1/headless/access_token/refresh 401 refresh_token_expired_error': async () => {
    const token = (await issue()).refresh_token;
    clock.advance(31 * DAY);
    return client.api.refreshAccessToken(token);
  },
  'PATCH /api/v1/headless/access_token/refresh 422 access_token_generation_failed': async (value) => {
    const token = (await issue()).refresh_token;
    replay(422, value);
    return client.api.refreshAccessToken(token);
  },
  'PATCH /api/v1/headless/access_token/refresh 403 forbidden': () =>
    adminClient.api.refreshAccessToken('any-token'),
  'POST /api/v1/headless/access_token/revoke 204 success': async () =>
    client.api.revokeAccessToken((await issue()).access_token),
  'POST /api/v1/headless/access_token/revoke 422 invalid_access_token_error': () =>
    client.api.revokeAccessToken('eyJhbGciOiJIUzI1NiJ9.e30.forged'),
  'POST /api/v1/headless/access_token/revoke 422 access_token_expired_error': async () => {
    const token = (await issue()).access_token;
    clock.advance(2 * HOUR);
    return client.api.revokeAccessToken(token);
  },
  'POST /api/v1/headless/access_token/revoke 422 revoked_access_token_error': async () => {
    const token = (await issue()).access_token;
    await client.api.revokeAccessToken(token);
    return client.api.revokeAccessToken(token);
  },
  'POST /api/v1/headless/access_token/revoke 422 community_not_found_error': async () => {
    const token = await new SignJWT({
      community_id: 2,
      community_member_id: 1,
      sso_user_id: 'sso-ada',
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(clock.now() / 1000) + 3600)
      .sign(jwtSecret);
    return client.api.revokeAccessToken(token);
  },
  'POST /api/v1/headless/access_token/revoke 422 community_member_not_found_error': async () => {
    const token = (await client.api.issueMemberToken({ email: 'edsger@example.com' })).access_token;
    sandbox.simulator.removeMember(5);
    return client.api.revokeAccessToken(token);
  },
  'POST /api/v1/headless/access_token/revoke 401 unauthorized': () =>
    wrongClient.api.revokeAccessToken('eyJ.a.b'),
  'POST /api/v1/headless/access_token/revoke 403 forbidden': () =>
    adminClient.api.revokeAccessToken('eyJ.a.b'),
  'POST /api/v1/headless/access_token/revoke 404 missing_parameter': () => rawPost('access_token/revoke', {}),
  'POST /api/v1/headless/access_token/revoke 404 invalid_access_token_type': () =>
    rawPost('access_token/revoke', { access_token: 12 }),
  'POST /api/v1/headless/refresh_token/revoke 204 success': async () =>
    client.api.revokeRefreshToken((await issue()).refresh_token),
  'POST /api/v1/headless/refresh_token/revoke 404 invalid_refresh_token': () =>
    client.api.revokeRefreshToken('no-such-refresh-token'),
  'POST /api/v1/headless/refresh_token/revoke 404 missing_refresh_token': () =>
    rawPost('refresh_token/revoke', {}),
  'POST /api/v1/headless/refresh_token/revoke 404 invalid_refresh_token_type': () =>
    rawPost('refresh_token/revoke', { refresh_token: 12 }),
  'POST /api/v1/headless/refresh_token/revoke 401 unauthorized': () =>
    wrongClient.api.revokeRefreshToken('any'),
  'POST /api/v1/headless/refresh_token/revoke 401 refresh_token_expired': async () => {
    const token = (await issue()).refresh_token;
    clock.advance(31 * DAY);
    return client.api.revokeRefreshToken(token);
  },
  'POST /api/v1/headless/refresh_token/revoke 403 forbidden': () => adminClient.api.revokeRefreshToken('any'),
  'POST /api/v1/headless/refresh_token/revoke 422 unprocessable_entity': async (value) => {
    const token = (await issue()).refresh_token;
    replay(422, value);
    return client.api.revokeRefreshToken(token);
  },
};

/** A request the client refuses to send (wrong types, missing fields), sent by hand. */
async function rawPost(path: string, body: unknown) {
  const response = await fetch(`${sandbox.url}/api/v1/headless/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sandbox.appToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const { mapErrorResponse } = await import('../../src/client/responses.js');
  throw mapErrorResponse(
    path.startsWith('access') ? 'revokeAccess' : 'revokeRefresh',
    { status: response.status, retryAfter: undefined, body: await response.text() },
    60,
  );
}

describe('the sandbox answers every documented case as Circle documents it', () => {
  for (const row of documentedResponses()) {
    const key = `${row.method} ${row.path} ${row.status} ${row.example}`;
    it(`${key} → ${expectations[key]}`, async () => {
      const scenario = scenarios[key];
      if (!scenario) throw new Error(`no sandbox scenario for ${key}`);
      answers.length = 0;
      const outcome = await scenario(row.value).then(
        () => 'ok',
        (error: { code: string }) => error.code,
      );
      expect(outcome).toBe(expectations[key]);

      const answer = answers.findLast((a) => a.path === row.path);
      expect(answer?.status).toBe(row.status);
      if (row.status === 204) {
        expect(answer?.body).toBe('');
        return;
      }
      const body = JSON.parse(answer?.body ?? 'null') as Record<string, unknown>;
      if (row.schemaRef) {
        const validate = ajv.getSchema(row.schemaRef);
        expect(validate?.(body), JSON.stringify(validate?.errors)).toBe(true);
      }
      if (row.status >= 400) expect(body).toStrictEqual(row.value);
      else expect(Object.keys(body).sort()).toEqual(Object.keys(row.value as object).sort());
    });
  }
});
