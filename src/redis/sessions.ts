import type { RedisClientType } from '@redis/client';
import { type SessionRecord, type SessionStore, SessionStoreUnavailable } from '../sessions/store.js';
import type { RedisSecrets } from './secrets.js';

/** The client `createClient({ url, … })` makes (RESP3, no modules). */
// biome-ignore lint/complexity/noBannedTypes: node-redis types a client without modules as `{}`.
type Client = RedisClientType<{}, {}, {}, 3, {}>;

export interface RedisSessionStoreOptions {
  client: Client;
  secrets: RedisSecrets;
  /** Every key starts so (redis/index.ts `KEY_PREFIX`). */
  prefix: string;
  /** Runs a Redis call under the command deadline, marking Redis down when it fails. */
  guarded<T>(call: () => Promise<T>): Promise<T>;
}

/**
 * Sessions in Redis, shared by the replicas. Layout (every key with a TTL):
 * - `<prefix>s:<id>`: the record, sealed (AES-256-GCM, bound to its key) as JSON, until its refresh
 *   token expires; `<id>` is already a keyed hash of the cookie's value;
 * - `<prefix>si:<keyed hash of an identifier>`: the set of session ids started under it
 *   (`endMemberSessions`), kept as long as its longest-lived session;
 * - `<prefix>sr:<keyed hash of a refresh token>`: the set of sessions holding that refresh token
 *   (the last to end revokes it);
 * - `<prefix>sweep`: which replica sweeps, for one interval.
 * Nothing in clear: no token, cookie value or email, in any encoding. A failure is
 * `SessionStoreUnavailable`, which the session operations answer typed.
 */
export function redisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const { client, secrets, prefix } = options;
  const recordKey = (id: string) => `${prefix}s:${id}`;
  const identifierKey = (identifier: string) => secrets.key(`${prefix}si:`, identifier);
  const refreshKey = (token: string) => secrets.key(`${prefix}sr:`, token);
  const sweepKey = `${prefix}sweep`;

  async function run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await options.guarded(call);
    } catch {
      throw new SessionStoreUnavailable();
    }
  }

  return {
    kind: 'redis',
    async get(id) {
      const key = recordKey(id);
      const sealed = await run(() => client.get(key));
      if (sealed === null) return undefined;
      let record: SessionRecord;
      try {
        record = JSON.parse(secrets.open(sealed, key)) as SessionRecord;
      } catch {
        return undefined; // altered, or sealed under another app token: no session
      }
      return record.refreshTokenExpiresAt <= Date.now() ? undefined : record;
    },
    async put(id, record) {
      const key = recordKey(id);
      const ttl = Math.max(1, record.refreshTokenExpiresAt - Date.now());
      const multi = client.multi().set(key, secrets.seal(JSON.stringify(record), key), { PX: ttl });
      for (const identifier of record.identifiers) {
        const index = identifierKey(identifier);
        multi.sAdd(index, id).pExpire(index, ttl, 'GT').pExpire(index, ttl, 'NX');
      }
      const holders = refreshKey(record.refreshToken);
      multi.sAdd(holders, id).pExpire(holders, ttl, 'GT').pExpire(holders, ttl, 'NX');
      await run(() => multi.exec());
    },
    async remove(id, record) {
      const holders = refreshKey(record.refreshToken);
      const multi = client.multi().del(recordKey(id));
      for (const identifier of record.identifiers) multi.sRem(identifierKey(identifier), id);
      multi.sRem(holders, id).sMembers(holders);
      const replies = await run(() => multi.exec());
      return replies.at(-1) as unknown as string[];
    },
    async find(identifiers) {
      const found = new Set<string>();
      for (const identifier of identifiers)
        for (const id of await run(() => client.sMembers(identifierKey(identifier)))) found.add(id);
      return [...found];
    },
    async *ids() {
      const start = `${prefix}s:`;
      let cursor = '0';
      do {
        const reply = await run(() => client.scan(cursor, { MATCH: `${start}*`, COUNT: 500 }));
        cursor = String(reply.cursor);
        for (const key of reply.keys) yield key.slice(start.length);
      } while (cursor !== '0');
    },
    async claimSweep(ms) {
      const taken = await run(() => client.set(sweepKey, '1', { NX: true, PX: Math.max(1000, ms - 500) }));
      return taken === 'OK';
    },
  };
}
