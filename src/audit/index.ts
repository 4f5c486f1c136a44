import { createHmac, hkdfSync } from 'node:crypto';
import { hostname } from 'node:os';
import { type DestinationStream, pino } from 'pino';
import type { Caller, CredentialKind, TokenOperation } from '../domain/types.js';
import { bufferedDestination } from '../logger.js';

/** The audit trail's events: a token issued, refreshed or revoked, or a token request refused. */
export type AuditEventName = 'token.issued' | 'token.refreshed' | 'token.revoked' | 'token.refused';

/** Why a session ended (DESIGN.md, Sessions). */
export type SessionEndReason =
  | 'signed_out'
  | 'replaced'
  | 'idle'
  | 'max_age'
  | 'ended_by_backend'
  | 'refresh_token_expired'
  | 'refresh_token_revoked';

/** A session started or ended: one of each per session. */
export interface SessionAuditEvent {
  event: 'session.started' | 'session.ended';
  /** Why it ended (`session.ended` only). */
  reason?: SessionEndReason;
  /** Circle's member id. */
  subject: { memberId: string };
  /** A keyed hash of the session's id: ties a session's two events together, opens nothing. */
  session: string;
  /** Circle tokens revoked as it ended: access tokens, and whether the refresh token was. */
  revoked?: { accessTokens: number; refreshToken: boolean };
  /** The request that started or ended it; none for the sweep. */
  requestId?: string;
}

/**
 * A credential refused, before anything ran. Past a few per source and minute, the rest of that
 * minute is one event with `suppressed` (auth/refusals.ts), so a flood neither fills the disk nor
 * hides.
 */
export interface AuthRefusedEvent {
  event: 'auth.refused';
  credential: CredentialKind;
  reason: string;
  /** A keyed hash of the client's address. */
  source: string;
  requestId?: string;
  /** A summary: refusals from this source not recorded one by one in the window that ended. */
  suppressed?: number;
  /** The summary's window, in seconds. */
  windowS?: number;
}

export type AuditEvent = TokenAuditEvent | SessionAuditEvent | AuthRefusedEvent;

export interface TokenAuditEvent {
  event: AuditEventName;
  operation: TokenOperation;
  /** `ok`, or FORBIDDEN, UNAUTHENTICATED or RATE_LIMITED for a refusal. */
  outcome: string;
  caller: { kind: Caller['kind']; name?: string };
  /** Circle's member id when known, else a keyed hash of the identifier or token: never the raw value. */
  subject?: { memberId: string } | { hash: string };
  /**
   * Refusals are recorded once per request and code: how many fields were refused, and, when they
   * were about more than one subject, the distinct subjects' keyed hashes (instead of `subject`).
   */
  count?: number;
  subjects?: string[];
  /** The gateway's own id of the request. */
  requestId: string;
  /** The caller's `x-request-id`, when it sent an acceptable one: the caller's word, kept apart. */
  callerRequestId?: string;
  /** The request's trace id, when it is traced. */
  traceId?: string;
}

export interface AuditLog {
  record(event: AuditEvent): void;
  /** A keyed hash (HMAC-SHA256) of an identifier or token: the same on every replica, reversible by none. */
  hash(value: string): string;
}

/**
 * An email as the audit trail names a member looked up by it (the loaders' subject key, case
 * folded), so that a log line's email and an audit event's subject can be matched.
 */
export const auditEmailHash = (audit: AuditLog) => (email: string) =>
  audit.hash(`EMAIL:${email.toLowerCase()}`);

const outcomesAudited = new Set(['ok', 'FORBIDDEN', 'UNAUTHENTICATED', 'RATE_LIMITED']);
const names: Record<TokenOperation, AuditEventName> = {
  issue: 'token.issued',
  refresh: 'token.refreshed',
  revoke_refresh: 'token.revoked',
  revoke_access: 'token.revoked',
};

/** Whether an outcome is one the audit trail records, and under which event name. */
export function auditEventName(operation: TokenOperation, outcome: string): AuditEventName | undefined {
  if (!outcomesAudited.has(outcome)) return undefined;
  return outcome === 'ok' ? names[operation] : 'token.refused';
}

export interface AuditOptions {
  /**
   * Where events go: AUDIT_LOG_FILE (appended, JSON lines), or a stream (tests); stdout when
   * neither, each line marked `"log":"audit"` apart from the other log lines.
   */
  file?: string | undefined;
  destination?: DestinationStream;
  /**
   * The secret the subject hashes are keyed with. Derived (HKDF) from the app token, which every
   * replica holds and which can mint tokens anyway, so hashes agree across replicas and restarts.
   */
  appToken: string;
}

let lastMs = Number.NaN;
let lastTime = '';
/**
 * pino's `isoTime`, made once a millisecond: a busy gateway records several events in one, and
 * `toISOString` was about 0.8 % of its CPU (a profile under load).
 */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * The audit trail (pino, JSON lines), apart from the operational log and independent of LOG_LEVEL:
 * one event per token issued, refreshed, revoked or refused, with the caller's kind and name, the
 * subject as Circle's member id or a keyed hash, the outcome, the request id and the replica.
 */
export function createAuditLog(options: AuditOptions): AuditLog {
  const key = Buffer.from(
    hkdfSync('sha256', options.appToken, 'circle-auth-gateway', 'audit subject hash', 32),
  );
  const destination =
    options.destination ??
    // Buffered: a write per 16 KiB or per second rather than per event; written out on any exit, a
    // crash's included (logger.ts).
    bufferedDestination(options.file ?? 1, { mkdir: options.file !== undefined });
  const logger = pino(
    {
      level: 'info',
      base: { log: 'audit', service: 'circle-auth-gateway', replica: `${hostname()}:${process.pid}` },
      timestamp: isoTime,
      messageKey: 'event',
    },
    destination,
  );
  return {
    record({ event, ...fields }) {
      logger.info(fields, event);
    },
    hash(value) {
      return `hmac-sha256:${createHmac('sha256', key).update(value).digest('base64url').slice(0, 22)}`;
    },
  };
}
