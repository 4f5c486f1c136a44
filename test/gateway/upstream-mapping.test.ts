import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedResponses } from '../support/openapi.js';
import {
  accessTokenFields,
  memberTokenFields,
  revokedFields,
  type Stack,
  startStack,
} from '../support/stack.js';
import { shapedAccessToken, shapedRefreshToken } from '../support/tokens.js';

/**
 * Every answer the OpenAPI file documents, replayed by the sandbox exactly as documented, and the
 * GraphQL result the gateway makes of it. `ok` is the success type.
 */
const graphqlOutcome: Record<string, string> = {
  'POST /api/v1/headless/auth_token 200 success': 'MemberToken',
  'POST /api/v1/headless/auth_token 401 unauthorized': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/auth_token 403 forbidden': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/auth_token 404 member_not_found': 'MEMBER_NOT_FOUND',
  'POST /api/v1/headless/auth_token 422 unprocessable_entity': 'UPSTREAM_UNAVAILABLE',
  'PATCH /api/v1/headless/access_token/refresh 200 success': 'AccessToken',
  'PATCH /api/v1/headless/access_token/refresh 200 access_token_not_required': 'AccessToken',
  'PATCH /api/v1/headless/access_token/refresh 404 not_found_error': 'INVALID_TOKEN',
  'PATCH /api/v1/headless/access_token/refresh 401 refresh_token_expired_error': 'TOKEN_EXPIRED',
  'PATCH /api/v1/headless/access_token/refresh 422 access_token_generation_failed': 'UPSTREAM_UNAVAILABLE',
  'PATCH /api/v1/headless/access_token/refresh 403 forbidden': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/access_token/revoke 204 success': 'TokenRevoked',
  'POST /api/v1/headless/access_token/revoke 422 invalid_access_token_error': 'TokenRevoked',
  'POST /api/v1/headless/access_token/revoke 422 access_token_expired_error': 'TokenRevoked',
  'POST /api/v1/headless/access_token/revoke 422 revoked_access_token_error': 'TokenRevoked',
  'POST /api/v1/headless/access_token/revoke 422 community_not_found_error': 'TokenRevoked',
  'POST /api/v1/headless/access_token/revoke 422 community_member_not_found_error': 'TokenRevoked',
  'POST /api/v1/headless/access_token/revoke 401 unauthorized': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/access_token/revoke 403 forbidden': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/access_token/revoke 404 missing_parameter': 'INVALID_INPUT',
  'POST /api/v1/headless/access_token/revoke 404 invalid_access_token_type': 'INVALID_INPUT',
  'POST /api/v1/headless/refresh_token/revoke 204 success': 'TokenRevoked',
  'POST /api/v1/headless/refresh_token/revoke 404 invalid_refresh_token': 'TokenRevoked',
  'POST /api/v1/headless/refresh_token/revoke 404 missing_refresh_token': 'INVALID_INPUT',
  'POST /api/v1/headless/refresh_token/revoke 404 invalid_refresh_token_type': 'TokenRevoked',
  'POST /api/v1/headless/refresh_token/revoke 401 unauthorized': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/refresh_token/revoke 401 refresh_token_expired': 'TokenRevoked',
  'POST /api/v1/headless/refresh_token/revoke 403 forbidden': 'UPSTREAM_UNAVAILABLE',
  'POST /api/v1/headless/refresh_token/revoke 422 unprocessable_entity': 'UPSTREAM_UNAVAILABLE',
};

// A new token per case: one Circle called unknown is remembered and would not reach the next fault.
const refreshToken = shapedRefreshToken;
const accessToken = () => shapedAccessToken();

const operations: Record<string, { query: () => string; field: string }> = {
  '/api/v1/headless/auth_token': {
    query: () => `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`,
    field: 'memberToken',
  },
  '/api/v1/headless/access_token/refresh': {
    query: () => `mutation { refreshToken(refreshToken: "${refreshToken()}") { ${accessTokenFields} } }`,
    field: 'refreshToken',
  },
  '/api/v1/headless/refresh_token/revoke': {
    query: () => `mutation { revokeRefreshToken(refreshToken: "${refreshToken()}") { ${revokedFields} } }`,
    field: 'revokeRefreshToken',
  },
  '/api/v1/headless/access_token/revoke': {
    query: () => `mutation { revokeAccessToken(accessToken: "${accessToken()}") { ${revokedFields} } }`,
    field: 'revokeAccessToken',
  },
};

let stack: Stack;
// 401/403 would open the breaker after five in a row; a high threshold keeps each case independent.
beforeAll(async () => {
  stack = await startStack({ client: { breakerMinimumCalls: 1000 } });
});
afterAll(() => stack.close());

describe('every documented upstream answer becomes the right GraphQL result', () => {
  const rows = documentedResponses();

  it('covers every documented answer', () => {
    expect(rows.map((r) => `${r.method} ${r.path} ${r.status} ${r.example}`).sort()).toEqual(
      Object.keys(graphqlOutcome).sort(),
    );
  });

  for (const row of rows) {
    const key = `${row.method} ${row.path} ${row.status} ${row.example}`;
    it(`${key} → ${graphqlOutcome[key]}`, async () => {
      const operation = operations[row.path];
      if (!operation) throw new Error(`no operation for ${row.path}`);
      stack.sandbox.setFaults({
        queue: [
          { kind: 'raw', status: row.status, body: row.value === undefined ? '' : JSON.stringify(row.value) },
        ],
      });
      const response = await stack.post(operation.query());
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      const result = response.body.data?.[operation.field] as Record<string, unknown>;
      const expected = graphqlOutcome[key] as string;
      if (/^[A-Z_]+$/.test(expected)) expect(result.code).toBe(expected);
      else expect(result.__typename).toBe(expected);
      // Circle's own texts never reach the client.
      const upstreamMessage = (row.value as { message?: string } | undefined)?.message;
      if (upstreamMessage) expect(response.text).not.toContain(upstreamMessage);
    });
  }

  it('answers a 429 with RATE_LIMITED and Circle’s Retry-After', async () => {
    stack.sandbox.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 90 }] });
    const response = await stack.post(operations['/api/v1/headless/auth_token']?.query() ?? '');
    expect(response.body.data?.memberToken).toStrictEqual({
      __typename: 'RateLimited',
      code: 'RATE_LIMITED',
      message: 'Too many requests to Circle; retry after 90 s.',
      retryAfterSeconds: 90,
    });
  });
});
