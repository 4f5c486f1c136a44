import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditEmailHash, createAuditLog } from '../../src/audit/index.js';
import { createLogger, type EmailHasher } from '../../src/logger.js';

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
