import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { auditEmailHash, createAuditLog } from '../../src/audit/index.js';
import { createLogger, type EmailHasher, infoLineWriter } from '../../src/logger.js';

describe('log redaction', () => {
  it('blanks credentials and tokens, and hashes emails, wherever the one list names them', () => {
    const lines: string[] = [];
    const audit = createAuditLog({
      appToken: 'logger-test-app-token',
      destination: { write: () => undefined },
    });
    const emails: EmailHasher = {};
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) }, emails);
    // Before the key is known, an email is redacted like any secret.
    logger.info({ email: 'ada@example.com' }, 'early line');
    expect(JSON.parse(lines.shift() ?? '{}')).toMatchObject({ email: '[redacted]' });
    emails.hash = auditEmailHash(audit);
    logger.info(
      {
        email: 'Ada@Example.com',
        caller: { email: 'ada@example.com', authorization: 'Bearer eyJ.secret.jwt' },
        headers: { authorization: 'Bearer eyJ.secret.jwt', 'x-api-key': 'k-secret-api-key-000000' },
        accessToken: 'eyJ.access.token',
        refreshToken: 'refresh-token-secret',
        appToken: 'app-token-secret',
        code: 'MEMBER_NOT_FOUND',
      },
      'test line',
    );
    const entry = JSON.parse(lines[0] ?? '{}');
    // The same member, whatever the case, gets the same keyed hash: the audit trail's subject for it,
    // not a plain SHA-256 anyone could compute from a guessed address.
    const hashed = audit.hash('EMAIL:ada@example.com');
    expect(hashed).toMatch(/^hmac-sha256:[\w-]{22}$/);
    expect(lines[0]).not.toContain(createHash('sha256').update('ada@example.com').digest('hex').slice(0, 16));
    expect(entry).toMatchObject({
      email: hashed,
      caller: { email: hashed, authorization: '[redacted]' },
      headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' },
      accessToken: '[redacted]',
      refreshToken: '[redacted]',
      appToken: '[redacted]',
      code: 'MEMBER_NOT_FOUND',
    });
    for (const secret of [
      'ada@example.com',
      'Ada@Example.com',
      'eyJ',
      'k-secret',
      'refresh-token-secret',
      'app-token-secret',
    ]) {
      expect(lines[0]).not.toContain(secret);
    }
  });
});

describe('lines written without pino', () => {
  const members = '"requestId":"r-1","status":200,"caller":{"kind":"backend","name":"billing \\"eu\\""}';
  const fields = { requestId: 'r-1', status: 200, caller: { kind: 'backend', name: 'billing "eu"' } };

  it("are pino's lines, to the logger's destination, in order with its own", () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const writer = infoLineWriter(logger);
    logger.info(fields, 'request');
    expect(writer.enabled()).toBe(true);
    writer.write(members, 'request');
    logger.warn('after');
    expect(lines).toHaveLength(3);
    const [theirs, ours] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(ours ?? {})).toEqual(Object.keys(theirs ?? {}));
    expect({ ...ours, time: 0 }).toEqual({ ...theirs, time: 0 });
    expect(ours?.time).toBeGreaterThanOrEqual(theirs?.time as number);
    expect(lines[1]?.endsWith('}\n')).toBe(true);
    expect(JSON.parse(lines[2] ?? '{}')).toMatchObject({ level: 40, msg: 'after' });
  });

  it('say they are off when the level is above info', () => {
    const logger = createLogger('warn', { write: () => undefined });
    expect(infoLineWriter(logger).enabled()).toBe(false);
  });

  it("go through pino for a logger createLogger did not make (the embedder's)", () => {
    const lines: string[] = [];
    const writer = infoLineWriter(pino({ base: null }, { write: (line: string) => void lines.push(line) }));
    writer.write(members, 'request');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ ...fields, level: 30, msg: 'request' });
  });
});
