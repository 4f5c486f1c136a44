import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

/**
 * docs/grafana-dashboard.json: every query uses only metrics the gateway exports, checked against a
 * real scrape after some traffic, and the panels cover what an operator asks first.
 */
interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}
const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as Dashboard;

let stack: Stack;
beforeAll(async () => {
  const apiKey = 'dashboard-test-api-key-0123456789';
  stack = await startStack({
    metrics: true,
    gateway: { openAccess: false, auth: { apiKeys: new Map([['backend', apiKey]]) } },
  });
  // A token, and an error result (no credentials), so every family has a series.
  const query = '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }';
  await stack.post(query, undefined, { 'x-api-key': apiKey });
  await stack.post(query);
});
afterAll(() => stack.close());

/** The metric names a PromQL expression reads: identifiers of the exported families' prefixes. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:circle|gateway|graphql|process|nodejs)_[a-z0-9_]+)\b/g)].map(
    (m) => m[1] as string,
  );
}

describe('the Grafana dashboard', () => {
  it('queries only metrics a real /metrics scrape has', async () => {
    const scrape = (await stack.metrics?.registry.metrics()) ?? '';
    const names = dashboard.panels.flatMap((panel) => panel.targets.flatMap((t) => metricNames(t.expr)));
    expect(names.length).toBeGreaterThan(10);
    for (const name of new Set(names)) {
      expect(scrape, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
    }
  });

  it('has the panels an operator asks for', () => {
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((t) => t.expr)).join('\n');
    for (const name of [
      'gateway_token_operations_total',
      'circle_budget_remaining',
      'circle_upstream_requests_total',
      'circle_upstream_request_duration_seconds_bucket',
      'circle_breaker_open',
      'gateway_rate_limited_total',
    ]) {
      expect(exprs).toContain(name);
    }
  });
});
