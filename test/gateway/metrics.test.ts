import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../src/metrics/server.js';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import { memberTokenFields, type Stack, startStack, testRateLimits } from '../support/stack.js';

/**
 * Prometheus metrics after a full run of what the gateway does (tokens issued, refreshed, revoked;
 * refusals; limits; saved calls; Circle failing until the breaker opens), scraped over HTTP from the
 * metrics listener: every documented name is there, the counts are right, and no label carries a
 * token, key, email, member id or caller key.
 */
const apiKey = 'metrics-test-api-key-0123456789';

let stack: Stack;
let scrape: () => Promise<string>;
let closeServer: () => Promise<void>;
const secrets: string[] = [apiKey, testJwt.secret];

beforeAll(async () => {
  stack = await startStack({
    metrics: true,
    client: { breakerMinimumCalls: 3, breakerHalfOpenAfterMs: 60_000 },
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['billing', apiKey]]), jwt: testJwt },
      rateLimits: { ...testRateLimits, perMemberPerMinute: 6, circleBudgetPer5Min: 1000 },
      maxUpstreamCallsPerOperation: 4,
    },
  });
  if (!stack.metrics) throw new Error('the stack was started without metrics');
  const server = await startMetricsServer(stack.metrics.registry, '127.0.0.1', 0);
  scrape = () => fetch(server.url).then((r) => r.text());
  closeServer = server.close;
});
afterAll(async () => {
  await closeServer();
  await stack.close();
});

const asBackend = { 'x-api-key': apiKey };
const token = (email: string) => `memberToken(by: EMAIL, value: "${email}") { ${memberTokenFields} }`;

async function fullRun() {
  // Issued, once for two identical aliases (one saved call), and one member not found.
  const issued = await stack.post(
    `{ a: ${token('ada@example.com')} b: ${token('ada@example.com')} c: ${token('nobody@example.com')} }`,
    undefined,
    asBackend,
  );
  const ada = issued.body.data?.a as { refreshToken: string; accessToken: string };
  secrets.push(ada.refreshToken, ada.accessToken, 'ada@example.com', 'nobody@example.com');
  // Three concurrent refreshes of one token: one upstream call, two joined flights.
  await stack.sandbox.setFaults({ latencyMs: 150 });
  await Promise.all(
    [1, 2, 3].map(() =>
      stack.post(`mutation { refreshToken(refreshToken: "${ada.refreshToken}") { __typename } }`),
    ),
  );
  await stack.sandbox.setFaults({});
  await stack.post(`mutation { revokeRefreshToken(refreshToken: "${ada.refreshToken}") { __typename } }`);
  await stack.post(`mutation { revokeAccessToken(accessToken: "${ada.accessToken}") { __typename } }`);
  // Refused: no credentials, and a member asking for someone else.
  await stack.post(`{ ${token('grace@example.com')} }`);
  const member = await signMemberJwt({ email: 'alan@example.com', email_verified: true }, 'sso-alan');
  secrets.push(member, 'sso-alan', 'alan@example.com', 'grace@example.com');
  await stack.post(`{ ${token('grace@example.com')} }`, undefined, { authorization: `Bearer ${member}` });
  // The per-member limit (6 a minute) and the per-operation cap (4 calls).
  await stack.post(
    `{ ${[1, 2, 3, 4, 5, 6, 7].map((i) => `m${i}: ${token('katherine@example.com')}`).join(' ')} }`,
    undefined,
    asBackend,
  );
  await stack.post(
    `{ ${['edsger', 'x1', 'x2', 'x3', 'x4'].map((n, i) => `o${i}: ${token(`${n}@example.com`)}`).join(' ')} }`,
    undefined,
    asBackend,
  );
  // A GET whose URL holds an email: the URL must not become a label.
  await stack.gateway.fetch(
    `http://gateway/graphql?query=${encodeURIComponent('{ __typename }')}&variables=${encodeURIComponent('{"email":"url-secret@example.com"}')}`,
    { headers: { accept: 'application/json' } },
  );
  secrets.push('url-secret@example.com', 'url-secret%40example.com');
  // Circle failing: 503s until more than half of the window failed and the breaker opens; the next
  // call is refused without an attempt.
  await stack.sandbox.setFaults({ errorRate: 1 });
  const before = stack.sandbox.stats().calls.authToken;
  // A different member each time, so the per-member limit stays out of it.
  for (let i = 0; i < 60 && stack.client.breakerState() !== 'open'; i++) {
    await stack.post(`{ ${token(`down${i}@example.com`)} }`, undefined, asBackend);
  }
  failedAttempts = stack.sandbox.stats().calls.authToken - before;
  await stack.post(`{ ${token('down-after@example.com')} }`, undefined, asBackend);
  await stack.sandbox.setFaults({});
}
let failedAttempts = 0;

/** The value of one series in a Prometheus text exposition, or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus metrics', () => {
  it('count what happened, by fixed labels only', async () => {
    await fullRun();
    const text = await scrape();
    for (const name of [
      'circle_upstream_requests_total',
      'circle_upstream_request_duration_seconds',
      'circle_breaker_open',
      'circle_budget_remaining',
      'gateway_token_operations_total',
      'gateway_rate_limited_total',
      'gateway_upstream_calls_saved_total',
      'graphql_yoga_http_duration',
      'graphql_envelop_request',
      'graphql_envelop_error_result',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(value(text, 'gateway_token_operations_total{operation="issue",outcome="ok"}')).toBe(9);
    // Which door answered: over the socket the front door serves the plain POSTs; through
    // gateway.fetch (yoga alone) it never sees one. The counts above are the same either way.
    const served = value(text, 'gateway_hot_path_requests_total{outcome="served"}');
    if (stack.transport === 'socket') expect(served).toBeGreaterThan(5);
    else expect(served).toBe(0);
    // nobody@, and x1 to x3 within the cap (x4 is beyond it).
    expect(value(text, 'gateway_token_operations_total{operation="issue",outcome="MEMBER_NOT_FOUND"}')).toBe(
      4,
    );
    expect(value(text, 'gateway_token_operations_total{operation="issue",outcome="UNAUTHENTICATED"}')).toBe(
      1,
    );
    expect(value(text, 'gateway_token_operations_total{operation="issue",outcome="FORBIDDEN"}')).toBe(1);
    expect(value(text, 'gateway_token_operations_total{operation="refresh",outcome="ok"}')).toBe(3);
    expect(value(text, 'gateway_token_operations_total{operation="revoke_refresh",outcome="ok"}')).toBe(1);
    expect(value(text, 'gateway_token_operations_total{operation="revoke_access",outcome="ok"}')).toBe(1);
    expect(value(text, 'gateway_rate_limited_total{scope="member"}')).toBe(1);
    expect(value(text, 'gateway_rate_limited_total{scope="operation_cap"}')).toBe(1);
    // ada twice (1), katherine 6 times admitted (5; the 7th was refused by the member limit).
    expect(value(text, 'gateway_upstream_calls_saved_total{reason="same_request"}')).toBe(6);
    expect(value(text, 'gateway_upstream_calls_saved_total{reason="single_flight"}')).toBe(2);
    expect(value(text, 'circle_upstream_requests_total{endpoint="refresh",outcome="ok"}')).toBe(1);
    expect(value(text, 'circle_upstream_requests_total{endpoint="authToken",outcome="SERVER_FAULT"}')).toBe(
      failedAttempts,
    );
    expect(failedAttempts).toBeGreaterThanOrEqual(3);
    expect(value(text, 'circle_upstream_requests_total{endpoint="authToken",outcome="CIRCUIT_OPEN"}')).toBe(
      1,
    );
    expect(value(text, 'circle_breaker_open')).toBe(1);
    // Every upstream call the loaders admitted: the auth_token calls, the one refresh that led its
    // flight (the two that joined it cost no budget), two revokes, and the call the breaker refused.
    expect(value(text, 'circle_budget_remaining')).toBe(1000 - stack.sandbox.stats().calls.authToken - 4);
    expect(value(text, 'gateway_shared_state{state="memory"}')).toBe(1);
    expect(value(text, 'gateway_shared_state{state="shared"}')).toBe(0);
  });

  it('never carry a token, key, email, member id or caller key in a label', async () => {
    const text = await scrape();
    for (const secretValue of secrets) expect(text).not.toContain(secretValue);
    const allowed: Record<string, RegExp> = {
      endpoint: /^(authToken|refresh|revokeRefresh|revokeAccess)$/,
      outcome: /^(ok|[A-Z_]+|served|handed_over)$/,
      operation: /^(issue|refresh|revoke_refresh|revoke_access)$/,
      scope: /^(caller|member|budget|anonymous_budget|operation_cap)$/,
      reason:
        /^(same_request|single_flight|unusable_token|coalesced_mint|session|none|signed_out|replaced|idle|max_age|ended_by_backend|refresh_token_expired|refresh_token_revoked|unknown_key|not_accepted|expired|no_expiry|malformed|bad_signature|wrong_audience|wrong_issuer|not_yet_valid|bad_claim|algorithm_not_allowed|issued_in_future|lives_too_long|malformed_header|with_api_key|method_not_allowed|content_type_not_json|csrf_header_missing|origin_missing|origin_not_allowed)$/,
      event: /^(started|ended)$/,
      credential: /^(api_key|bearer|cookie)$/,
      state: /^(memory|shared|insurance)$/,
      operationType: /^(query|mutation|subscription|unknown)$/,
      method: /^(GET|POST)$/,
      statusCode: /^\d{3}$/,
      phase: /^(parse|validate|context|execute|subscribe)$/,
    };
    const ours = text.split('\n').filter((l) => /^(circle|gateway|graphql)_/.test(l));
    expect(ours.length).toBeGreaterThan(20);
    for (const line of ours) {
      for (const [, label, labelValue] of line.matchAll(/(\w+)="([^"]*)"/g)) {
        if (label === 'le') continue;
        expect(allowed[label as string], `${label} in ${line}`).toBeDefined();
        expect(labelValue, line).toMatch(allowed[label as string] as RegExp);
      }
    }
    // yoga's GraphQL metrics carry no operation name (a caller-chosen text).
    expect(text).not.toMatch(/operationName="/);
  });

  it('count GraphQL operations, their duration and error results by phase', async () => {
    const before = await scrape();
    const delta = (after: string, series: string) =>
      (value(after, series) ?? 0) - (value(before, series) ?? 0);
    await stack.post('query Probe { __typename }', undefined, asBackend);
    await stack.post('{ memberToken(', undefined, asBackend);
    await stack.post('{ noSuchField }', undefined, asBackend);
    const after = await scrape();
    expect(delta(after, 'graphql_envelop_request{operationType="query"}')).toBe(1);
    expect(delta(after, 'graphql_envelop_error_result{operationType="unknown",phase="parse"}')).toBe(1);
    expect(delta(after, 'graphql_envelop_error_result{operationType="unknown",phase="validate"}')).toBe(1);
    expect(delta(after, 'graphql_envelop_error_result{operationType="query",phase="execute"}')).toBe(0);
    expect(
      delta(after, 'graphql_yoga_http_duration_count{operationType="query",method="POST",statusCode="200"}'),
    ).toBe(1);
    // Parse and validation errors are answered 200 to a client that accepts application/json.
    expect(
      delta(
        after,
        'graphql_yoga_http_duration_count{operationType="unknown",method="POST",statusCode="200"}',
      ),
    ).toBe(2);
  });

  it('are served on their own listener, never on the GraphQL port', async () => {
    const response = await stack.gateway.fetch('http://gateway/metrics');
    expect(response.status).toBe(404);
  });
});
