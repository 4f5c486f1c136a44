/**
 * Where sessions are kept: in Redis when the replicas share state (redis/sessions.ts, sealed), else
 * in this process (`memorySessionStore`: one replica, lost on restart). A session is known by a
 * keyed hash of its cookie's value (its id); the cookie's value itself is never stored.
 */

/** One session, as stored. Times are epoch milliseconds. */
export interface SessionRecord {
  /** The member, as Circle's mint named it. */
  memberId: number;
  communityId: number;
  /** The key the member's JWT was counted under: the session caller's limits are the member's. */
  callerKey: string;
  /**
   * Every identifier the member was known by when the session started (the JWT's verified email
   * case-folded, its SSO id, its member id claim, and Circle's member id), as the loaders' subject
   * keys (`EMAIL:…`, `SSO:…`, `ID:…`): what `endMemberSessions` finds sessions by.
   */
  identifiers: string[];
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshToken: string;
  refreshTokenExpiresAt: number;
  /** Access tokens this session handed out and that have not expired: revoked when it ends. */
  handedOut: { token: string; expiresAt: number }[];
  startedAt: number;
  lastUsedAt: number;
  /** Circle refused an early refresh: the current token is handed out, and refreshed only after this. */
  retryRefreshAt?: number;
  /**
   * The session has ended, and some of its tokens could not be revoked yet (Circle unavailable):
   * the record stays, answering as no session, until the sweep has revoked them.
   */
  ended?: string;
  /** Its refresh token needs nothing more: revoked, or held by another live session when it ended. */
  refreshSettled?: true;
}

/** The store could not be read or written (Redis unreachable): the session operation answers typed. */
export class SessionStoreUnavailable extends Error {
  override name = 'SessionStoreUnavailable';
  constructor() {
    super('session storage unavailable');
  }
}

export interface SessionStore {
  /** `redis`: shared by the replicas; `memory`: this process only. */
  readonly kind: 'memory' | 'redis';
  /** The session with this id; `undefined` when there is none (or it outlived its refresh token). */
  get(id: string): Promise<SessionRecord | undefined>;
  /**
   * Writes the session, kept until its refresh token expires, and indexes it by its identifiers
   * and its refresh token.
   */
  put(id: string, record: SessionRecord): Promise<void>;
  /** Deletes the session and its index entries; answers the other sessions that hold its refresh token. */
  remove(id: string, record: SessionRecord): Promise<string[]>;
  /** The sessions started under any of these identifiers (subject keys). */
  find(identifiers: readonly string[]): Promise<string[]>;
  /** Every session id (the sweep). */
  ids(): AsyncIterable<string>;
  /** Whether this replica sweeps now: true for one replica per `ms`. */
  claimSweep(ms: number): Promise<boolean>;
}

/** Sessions in this process: for one replica, lost on restart (said at start). */
export function memorySessionStore(now: () => number = Date.now): SessionStore {
  const records = new Map<string, SessionRecord>();
  const byIdentifier = new Map<string, Set<string>>();
  const byRefreshToken = new Map<string, Set<string>>();
  const index = (map: Map<string, Set<string>>, key: string, id: string) => {
    const ids = map.get(key) ?? new Set<string>();
    ids.add(id);
    map.set(key, ids);
  };
  const unindex = (map: Map<string, Set<string>>, key: string, id: string) => {
    const ids = map.get(key);
    ids?.delete(id);
    if (ids?.size === 0) map.delete(key);
  };
  const drop = (id: string, record: SessionRecord) => {
    records.delete(id);
    for (const identifier of record.identifiers) unindex(byIdentifier, identifier, id);
    unindex(byRefreshToken, record.refreshToken, id);
  };
  return {
    kind: 'memory',
    async get(id) {
      const record = records.get(id);
      if (record && record.refreshTokenExpiresAt <= now()) return undefined;
      // A copy: a caller's changes are written by `put`, as with Redis.
      return record && structuredClone(record);
    },
    async put(id, record) {
      records.set(id, structuredClone(record));
      for (const identifier of record.identifiers) index(byIdentifier, identifier, id);
      index(byRefreshToken, record.refreshToken, id);
    },
    async remove(id, record) {
      drop(id, record);
      return [...(byRefreshToken.get(record.refreshToken) ?? [])];
    },
    async find(identifiers) {
      const found = new Set<string>();
      for (const identifier of identifiers)
        for (const id of byIdentifier.get(identifier) ?? []) found.add(id);
      return [...found];
    },
    async *ids() {
      for (const [id, record] of [...records]) {
        // Past its refresh token nothing can be revoked any more: forgotten, as Redis's TTL does.
        if (record.refreshTokenExpiresAt <= now()) drop(id, record);
        else yield id;
      }
    },
    claimSweep: async () => true,
  };
}
