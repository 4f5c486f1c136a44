import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TallyHistogram, tallyCounter } from '../../src/metrics/tally.js';

/**
 * The tallied metrics print what prom-client's own would for the same updates: the same text from
 * the registry, line for line, bucket edges, `+Inf`, sums, counts and label order included.
 */
const help = 'what was measured';
const buckets = [0.005, 0.05, 0.5];
// On the bounds, between them, beyond the last, and 0.
const observations: [number, string, string, number][] = [
  [0.005, 'query', 'POST', 200],
  [0.0051, 'query', 'POST', 200],
  [0.3, 'query', 'POST', 200],
  [7, 'query', 'POST', 200],
  [0, 'mutation', 'POST', 200],
  [0.05, 'query', 'GET', 400],
  [0.5, 'query', 'POST', 200],
];

describe('tallied metrics', () => {
  it("print a histogram as prom-client's Histogram does", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const labelNames = ['operationType', 'method', 'statusCode'];
    const tally = new TallyHistogram({ name: 'h', help, labelNames, buckets, registers: [ours] });
    const histogram = new Histogram({ name: 'h', help, labelNames, buckets, registers: [theirs] });
    for (const [seconds, operationType, method, status] of observations) {
      tally.observe(seconds, operationType, method, status);
      histogram.observe({ operationType, method, statusCode: String(status) }, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_bucket{le="0.005",operationType="query",method="POST",statusCode="200"} 1\n');
    expect(text).toContain('h_bucket{le="0.5",operationType="query",method="POST",statusCode="200"} 4\n');
    expect(text).toContain('h_bucket{le="+Inf",operationType="query",method="POST",statusCode="200"} 5\n');
    expect(text).toContain('h_count{operationType="query",method="GET",statusCode="400"} 1\n');
  });

  it("print a histogram of one label, and none before its first observation, as prom-client's does", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const tally = new TallyHistogram({ name: 'u', help, labelNames: ['endpoint'], registers: [ours] });
    const histogram = new Histogram({ name: 'u', help, labelNames: ['endpoint'], registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    for (const seconds of [0.001, 0.02, 0.02, 3]) {
      tally.observe(seconds, 'refresh');
      histogram.observe({ endpoint: 'refresh' }, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    tally.reset();
    histogram.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("print a counter as prom-client's Counter does, zeros included, and lose no count across scrapes", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const labelNames = ['endpoint', 'outcome'];
    const tally = tallyCounter({ name: 'c_total', help, labelNames, registers: [ours] });
    const counter = new Counter({ name: 'c_total', help, labelNames, registers: [theirs] });
    tally.zero('refresh', 'ok');
    counter.inc({ endpoint: 'refresh', outcome: 'ok' }, 0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const updates: [string, string][] = [
      ['authToken', 'ok'],
      ['authToken', 'SERVER_FAULT'],
      ['authToken', 'ok'],
    ];
    for (const [endpoint, outcome] of updates) {
      tally.inc(endpoint, outcome);
      counter.inc({ endpoint, outcome });
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // Counted after the scrape that handed the first ones over, then scraped again.
    tally.inc('authToken', 'ok');
    counter.inc({ endpoint: 'authToken', outcome: 'ok' });
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('c_total{endpoint="authToken",outcome="ok"} 3\n');
    expect(text).toContain('c_total{endpoint="refresh",outcome="ok"} 0\n');
  });
});
