import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/index.js';
import { createRefusalAudit } from '../../src/audit/refusals.js';

describe('auth.refused past the rate per source', () => {
  it('records the first few per source and window, then one summary with the count', () => {
    const lines: string[] = [];
    const audit = createAuditLog({
      appToken: 'app-token',
      destination: { write: (l: string) => void lines.push(l) },
    });
    let now = 1_000_000;
    const refusals = createRefusalAudit({ audit, perSource: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 1000; i++)
      refusals.refused({ credential: 'api_key', reason: 'unknown_key' }, '203.0.113.7', `r${i}`);
    refusals.refused({ credential: 'bearer', reason: 'expired' }, '198.51.100.1', 'other');
    expect(lines).toHaveLength(4);
    now += 60_000;
    refusals.refused({ credential: 'api_key', reason: 'unknown_key' }, '203.0.113.7', 'next');
    const events = lines.map((line) => JSON.parse(line));
    expect(events.map((e) => [e.requestId, e.suppressed])).toEqual([
      ['r0', undefined],
      ['r1', undefined],
      ['r2', undefined],
      ['other', undefined],
      [undefined, 997],
      ['next', undefined],
    ]);
    const summary = events.find((e) => e.suppressed !== undefined);
    expect(summary).toMatchObject({
      event: 'auth.refused',
      credential: 'api_key',
      reason: 'unknown_key',
      suppressed: 997,
      windowS: 60,
    });
    expect(summary.source).toBe(events[0].source);
    expect(events[3].source).not.toBe(events[0].source);
    expect(lines.join('\n')).not.toContain('203.0.113.7');
    refusals.flush();
  });
});
