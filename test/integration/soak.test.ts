import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * A short `npm run soak` (16 s, so that recovery lasts longer than the breaker's 3 s half-open wait: load, a quarter of upstream calls failing, recovery, hostile input
 * throughout, SIGTERM under load). The figures it prints are held to what must always hold; its
 * throughput and latency are not asserted (the machines are shared).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('a short soak', () => {
  it('answers everything typed, drops nothing at shutdown, degrades in proportion and recovers', () => {
    const run = spawnSync(`${root}node_modules/.bin/tsx`, ['bench/soak.ts', '--duration', '16'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 90_000,
    });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(run.status, run.stderr).toBe(0);
    const figures = JSON.parse(last) as Record<string, number>;
    expect(figures.requests, last).toBeGreaterThan(100);
    expect(figures).toMatchObject({
      serverErrors: 0,
      masked: 0,
      typedShare: 1,
      hostileBadAnswers: 0,
      drops: 0,
      exitCode: 0,
    });
    expect(figures.hostileRequests).toBeGreaterThan(10);
    // A partial outage stays partial (the breaker does not open on a quarter of failures).
    expect(figures.tokenShareUnderFaultsNotRateLimited, last).toBeGreaterThan(0.5);
    expect(figures.recoverySeconds, last).toBeLessThan(5);
  }, 120_000);
});
