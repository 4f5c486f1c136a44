import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { AuditLog, SessionEndReason } from '../audit/index.js';
import type { SessionsConfig } from '../config/load.js';
import {
  ErrorResult,
  ForbiddenResult,
  InvalidTokenResult,
  NoSessionResult,
  TokenExpiredResult,
  UpstreamUnavailableResult,
} from '../domain/outcomes.js';
import type {
  Caller,
  GatewayObserver,
  MemberLookup,
  SessionCookie,
  TokenOperation,
} from '../domain/types.js';
import type { Loaders } from '../loaders/index.js';
import type { Logger } from '../logger.js';
import { type SessionRecord, type SessionStore, SessionStoreUnavailable } from './store.js';

export {
  memorySessionStore,
  type SessionRecord,
  type SessionStore,
  SessionStoreUnavailable,
} from './store.js';

/** What the session operations need of the configuration (SESSIONS and SESSION_*). */
export type SessionSettings = SessionsConfig;

/** What `startSession` and `sessionToken` answer: an access token, never a refresh token. */
export interface SessionToken {
  accessToken: string;
  accessTokenExpiresAt: Date;
  communityMemberId: number;
  communityId: number;
}

/** A session started: the token, and the cookie to set (its value and lifetime). */
export interface StartedSession {
  token: SessionToken;
  cookie: { value: string; maxAgeS: number };
}

/** Sees sessions start and end (metrics); never a token, id or member. */
export type SessionObserver = Pick<GatewayObserver, 'session' | 'upstreamCallSaved'>;

export interface SessionsOptions {
  settings: SessionSettings;
  store: SessionStore;
  /** The id hashes are keyed with a key derived from it: a changed app token ends every session. */
  appToken: string;
  /**
   * Revokes a token at Circle for the gateway itself (a session ending, the sweep's included),
   * counted in Circle's budget; resolves whether it is revoked (RFC 7009: unusable counts).
   */
  revoke(
    operation: Extract<TokenOperation, 'revoke_access' | 'revoke_refresh'>,
    token: string,
  ): Promise<boolean>;
  audit?: AuditLog;
  observer?: SessionObserver;
  logger: Logger;
  now?: () => number;
}

const storageUnavailable = () =>
  new UpstreamUnavailableResult('Session storage is unavailable right now; try again shortly.');

/** `work`, or the typed answer when session storage did not answer (never a 5xx). */
async function stored<T>(work: () => Promise<T>): Promise<T | UpstreamUnavailableResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SessionStoreUnavailable) return storageUnavailable();
    throw error;
  }
}

/** A session's member lookup: how its mint names the member, from what the JWT proves. */
function lookupOf(
  caller: Extract<Caller, { kind: 'member' }>,
): { by: MemberLookup; value: string } | undefined {
  if (caller.memberId !== undefined) return { by: 'ID', value: String(caller.memberId) };
  if (caller.email !== undefined) return { by: 'EMAIL', value: caller.email };
  if (caller.ssoId !== undefined) return { by: 'SSO', value: caller.ssoId };
  return undefined;
}

/** Every identifier the session's member is known by, as the loaders' subject keys (email case-folded). */
function identifiersOf(caller: Extract<Caller, { kind: 'member' }>, memberId: number): string[] {
  const found = new Set<string>([`ID:${memberId}`]);
  if (caller.memberId !== undefined) found.add(`ID:${caller.memberId}`);
  if (caller.email !== undefined) found.add(`EMAIL:${caller.email.toLowerCase()}`);
  if (caller.ssoId !== undefined) found.add(`SSO:${caller.ssoId}`);
  return [...found];
}

/**
 * Sessions: the token-mediating backend of RFC 10017 for Circle tokens (DESIGN.md, Sessions). The
 * refresh token stays in the store; a browser holds an HttpOnly cookie whose value is a random
 * 256-bit id, and gets the access token (`sessionToken`), refreshed at Circle only when it has less
 * than the margin left. Mints and refreshes go through the request's loaders, so the member's
 * limits, Circle's budget, the single flights (in this process and across replicas) and the audit
 * trail apply as to any field; revocations as a session ends are the gateway's own calls.
 */
export function createSessions(options: SessionsOptions) {
  const { settings, store, logger } = options;
  const now = options.now ?? Date.now;
  const idKey = Buffer.from(hkdfSync('sha256', options.appToken, 'circle-auth-gateway', 'session id', 32));
  const idOf = (cookie: string) => createHmac('sha256', idKey).update(cookie).digest('base64url');
  const marginMs = settings.refreshMarginS * 1000;
  const idleMs = settings.idleTimeoutS * 1000;
  const maxAgeMs = settings.maxAgeS * 1000;
  /** A touch is written when the last one is older than this (a busy session is not a write per request). */
  const touchMs = Math.min(60_000, idleMs / 10);

  const audited = (id: string) => options.audit?.hash(`SESSION:${id}`) ?? '';

  /** Why a live session must end now, if it must. */
  function overdue(record: SessionRecord, at: number): SessionEndReason | undefined {
    if (record.refreshTokenExpiresAt <= at) return 'refresh_token_expired';
    if (at - record.startedAt >= maxAgeMs) return 'max_age';
    if (at - record.lastUsedAt >= idleMs) return 'idle';
    return undefined;
  }

  /** Revokes what an ended session still holds; the record goes once everything is revoked. */
  async function revokeRemaining(
    record: SessionRecord,
    others: readonly string[],
  ): Promise<{ accessTokens: number; refreshToken: boolean; pending: SessionRecord | undefined }> {
    const at = now();
    // Another live session holding the same refresh token (Circle's reused refresh token, or one
    // mint shared by coalesced requests) keeps it, and the access tokens it hands out too.
    const kept = new Set<string>();
    let shared = false;
    for (const other of others) {
      const held = await store.get(other).catch(() => undefined);
      if (!held || held.ended) continue;
      shared = true;
      kept.add(held.accessToken);
      for (const token of held.handedOut) kept.add(token.token);
    }
    const access = record.handedOut.filter((t) => t.expiresAt > at && !kept.has(t.token));
    const outcomes = await Promise.all(access.map((t) => options.revoke('revoke_access', t.token)));
    const left = access.filter((_, i) => !outcomes[i]);
    let refreshRevoked = false;
    let refreshLeft = false;
    if (!record.refreshSettled && !shared && record.refreshTokenExpiresAt > at) {
      refreshRevoked = await options.revoke('revoke_refresh', record.refreshToken);
      refreshLeft = !refreshRevoked;
    }
    const revoked = { accessTokens: access.length - left.length, refreshToken: refreshRevoked };
    if (left.length === 0 && !refreshLeft) return { ...revoked, pending: undefined };
    // Circle could not be reached: kept (answering as no session) for the sweep to finish.
    return {
      ...revoked,
      pending: { ...record, handedOut: left, ...(refreshLeft ? {} : { refreshSettled: true }) },
    };
  }

  /** Ends a session: out of the store and its indexes, its tokens revoked, audited once. */
  async function finish(id: string, record: SessionRecord, reason: SessionEndReason, requestId?: string) {
    const others = await store.remove(id, record);
    const { pending, ...revoked } = await revokeRemaining(record, others);
    if (pending) {
      await store.put(id, { ...pending, ended: reason }).catch(() => undefined);
      logger.warn(
        { reason },
        'session ended; some of its Circle tokens are revoked later (Circle unavailable)',
      );
    }
    options.observer?.session('ended', reason);
    options.audit?.record({
      event: 'session.ended',
      reason,
      subject: { memberId: String(record.memberId) },
      session: audited(id),
      revoked,
      ...(requestId ? { requestId } : {}),
    });
  }

  /**
   * The record authentication read for this request's cookie, taken once by the operation that
   * follows: one store read per request, not two. Never kept beyond the request (a WeakMap on the
   * request's own `SessionCookie`), so no request is answered from another's read.
   */
  const readForRequest = new WeakMap<SessionCookie, SessionRecord>();

  async function read(cookie: SessionCookie): Promise<SessionRecord | undefined> {
    const known = readForRequest.get(cookie);
    if (known) {
      readForRequest.delete(cookie);
      return known;
    }
    const record = await store.get(cookie.id);
    return record && !record.ended ? record : undefined;
  }

  const tokenOf = (record: SessionRecord): SessionToken => ({
    accessToken: record.accessToken,
    accessTokenExpiresAt: new Date(record.accessTokenExpiresAt),
    communityMemberId: record.memberId,
    communityId: record.communityId,
  });

  /** What is left of a session's life, for the cookie's Max-Age. */
  const lifetimeS = (record: SessionRecord, at: number) =>
    Math.max(
      0,
      Math.floor((Math.min(record.startedAt + maxAgeMs, record.refreshTokenExpiresAt) - at) / 1000),
    );

  return {
    settings,
    storeKind: store.kind,

    /** The session a cookie's value names, as authentication reads it; never throws. */
    async cookie(value: string): Promise<SessionCookie> {
      const id = idOf(value);
      try {
        const record = await read({ id, session: undefined });
        const cookie: SessionCookie = {
          id,
          session: record
            ? { memberId: record.memberId, communityId: record.communityId, callerKey: record.callerKey }
            : undefined,
        };
        if (record) readForRequest.set(cookie, record);
        return cookie;
      } catch (error) {
        if (error instanceof SessionStoreUnavailable) return { id, session: 'unavailable' };
        throw error;
      }
    },

    /**
     * Starts a session for a member-JWT caller: one mint at Circle (joined with one in flight for
     * the same caller and member), stored; a cookie sent along names the session this replaces.
     */
    async start(
      caller: Extract<Caller, { kind: 'member' }>,
      loaders: Loaders,
      requestId: string,
    ): Promise<StartedSession | ErrorResult> {
      const lookup = lookupOf(caller);
      if (!lookup)
        return new ForbiddenResult(
          'Your sign-in names no member: a session needs a JWT with a verified email, an SSO id or a Circle member id.',
        );
      let minted: Awaited<ReturnType<Loaders['memberToken']>>;
      try {
        minted = await loaders.memberToken(lookup.by, lookup.value);
      } catch (error) {
        if (error instanceof ErrorResult) return error;
        throw error;
      }
      const at = now();
      const accessTokenExpiresAt = Date.parse(minted.access_token_expires_at);
      const record: SessionRecord = {
        memberId: minted.community_member_id,
        communityId: minted.community_id,
        callerKey: caller.key,
        identifiers: identifiersOf(caller, minted.community_member_id),
        accessToken: minted.access_token,
        accessTokenExpiresAt,
        refreshToken: minted.refresh_token,
        refreshTokenExpiresAt: Date.parse(minted.refresh_token_expires_at),
        handedOut: [{ token: minted.access_token, expiresAt: accessTokenExpiresAt }],
        startedAt: at,
        lastUsedAt: at,
      };
      const value = randomBytes(32).toString('base64url');
      const id = idOf(value);
      try {
        await store.put(id, record);
      } catch {
        // A session that cannot be stored must not leave live tokens nobody holds.
        await Promise.all([
          options.revoke('revoke_access', minted.access_token),
          options.revoke('revoke_refresh', minted.refresh_token),
        ]);
        logger.warn('session not started: its storage did not answer; the tokens minted for it are revoked');
        return storageUnavailable();
      }
      options.observer?.session('started');
      options.audit?.record({
        event: 'session.started',
        subject: { memberId: String(record.memberId) },
        session: audited(id),
        requestId,
      });
      // The browser's previous session, if its cookie came along, ends: replaced.
      const previous = caller.cookie;
      if (previous && previous.id !== id) {
        const old = await read(previous).catch(() => undefined);
        if (old) await finish(previous.id, old, 'replaced', requestId).catch(() => undefined);
      }
      return { token: tokenOf(record), cookie: { value, maxAgeS: lifetimeS(record, at) } };
    },

    /**
     * The session's access token: as stored while it has more than the margin left (no upstream
     * call); else refreshed at Circle (one call for every request on every replica). A refresh
     * token Circle calls expired or revoked ends the session; a refused early refresh hands out
     * the current token until it expires.
     */
    async token(
      cookie: SessionCookie,
      loaders: Loaders,
      requestId: string,
    ): Promise<SessionToken | ErrorResult> {
      const record = await stored(() => read(cookie));
      if (record instanceof ErrorResult) return record;
      if (!record) return new NoSessionResult();
      const at = now();
      const ending = overdue(record, at);
      if (ending) {
        await finish(cookie.id, record, ending, requestId).catch(() => undefined);
        return new NoSessionResult('The session has ended: start a new one with startSession.');
      }
      const touched = at - record.lastUsedAt >= touchMs;
      record.lastUsedAt = at;
      const fresh = record.accessTokenExpiresAt - at > marginMs;
      const waiting =
        record.retryRefreshAt !== undefined && at < record.retryRefreshAt && record.accessTokenExpiresAt > at;
      if (fresh || waiting) {
        options.observer?.upstreamCallSaved('session');
        if (touched) await store.put(cookie.id, record).catch(() => undefined);
        return tokenOf(record);
      }
      try {
        const refreshed = await loaders.refresh(record.refreshToken);
        const expiresAt = Date.parse(refreshed.access_token_expires_at);
        record.accessToken = refreshed.access_token;
        record.accessTokenExpiresAt = expiresAt;
        delete record.retryRefreshAt;
        record.handedOut = [
          ...record.handedOut.filter((t) => t.expiresAt > at && t.token !== refreshed.access_token),
          { token: refreshed.access_token, expiresAt },
        ];
      } catch (error) {
        if (error instanceof InvalidTokenResult || error instanceof TokenExpiredResult) {
          const reason =
            error instanceof TokenExpiredResult ? 'refresh_token_expired' : 'refresh_token_revoked';
          await finish(cookie.id, record, reason, requestId).catch(() => undefined);
          return new NoSessionResult('The session has ended: Circle no longer accepts its refresh token.');
        }
        if (!(error instanceof ErrorResult)) throw error;
        // Circle refused the early refresh, or failed: the current token while it lives, retried at its expiry.
        if (record.accessTokenExpiresAt <= at) return error;
        record.retryRefreshAt = record.accessTokenExpiresAt;
      }
      const written = await stored(() => store.put(cookie.id, record));
      return written instanceof ErrorResult ? written : tokenOf(record);
    },

    /** Ends the browser's session (sign-out): its tokens revoked, RFC 7009 semantics. */
    async end(
      cookie: SessionCookie | undefined,
      requestId: string,
    ): Promise<{ revoked: true } | ErrorResult> {
      if (!cookie) return new NoSessionResult();
      return stored(async () => {
        const record = await read(cookie);
        if (!record) return new NoSessionResult();
        await finish(cookie.id, record, 'signed_out', requestId);
        return { revoked: true as const };
      });
    },

    /** Ends every session of a member (sign-out everywhere), found by the identifiers it started with. */
    async endMember(
      by: MemberLookup,
      value: string,
      requestId: string,
    ): Promise<{ ended: number } | ErrorResult> {
      const identifier = `${by}:${by === 'EMAIL' ? value.toLowerCase() : value}`;
      return stored(async () => {
        let ended = 0;
        for (const id of await store.find([identifier])) {
          const record = await read({ id, session: undefined });
          if (!record) continue;
          await finish(id, record, 'ended_by_backend', requestId);
          ended += 1;
        }
        return { ended };
      });
    },

    /**
     * Ends idle and over-age sessions and finishes revocations Circle could not take before: one
     * replica at a time. Answers how many sessions it ended.
     */
    async sweep(): Promise<number> {
      if (!(await store.claimSweep(settings.sweepIntervalS * 1000))) return 0;
      let ended = 0;
      for await (const id of store.ids()) {
        const record = await store.get(id);
        if (!record) continue;
        if (record.ended) {
          const others = await store.remove(id, record);
          const { pending } = await revokeRemaining(record, others);
          if (pending) await store.put(id, pending);
          continue;
        }
        const reason = overdue(record, now());
        if (!reason) continue;
        await finish(id, record, reason);
        ended += 1;
      }
      return ended;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

/**
 * Runs the sweep every SESSION_SWEEP_INTERVAL_S (a timer that keeps no process alive); a sweep that
 * fails stops early, is logged, and the next one starts over. Returns what stops it.
 */
export function sweepEvery(sessions: Sessions, logger: Logger): () => void {
  const timer = setInterval(() => {
    sessions
      .sweep()
      .catch((error: unknown) =>
        logger.warn(
          { reason: (error as Error).name },
          'session sweep stopped early; it runs again next interval',
        ),
      );
  }, sessions.settings.sweepIntervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
