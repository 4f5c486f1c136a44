import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { connectSharedState, type SharedState } from '../../src/redis/index.js';
import type { SessionRecord } from '../../src/sessions/index.js';
import { type RedisServer, redisMissing, startRedis } from '../../support/redis.js';

/**
 * The Redis session store on a real redis-server, as two replicas hold it (two connections): a
 * session written by one is read, found by identifier and removed by the other; the last holder of
 * a refresh token is known; the sweep is one replica's at a time; and another app token reads nothing.
 */
let redis: RedisServer;
const opened: SharedState[] = [];
const silent = () => createLogger('error', new Writable({ write: (_c, _e, done) => done() }));
const replica = async (appToken = 'redis-store-test-app-token') => {
  const state = await connectSharedState({
    url: redis.url,
    appToken,
    timeoutMs: 200,
    replicas: 2,
    flightWaitMs: 2000,
    logger: silent(),
  });
  opened.push(state);
  return state.sessions;
};

const record = (refreshToken: string, identifiers: string[]): SessionRecord => ({
  memberId: 1,
  communityId: 1,
  callerKey: 'jwt:abc',
  identifiers,
  accessToken: 'access-token-value',
  accessTokenExpiresAt: Date.now() + 3_600_000,
  refreshToken,
  refreshTokenExpiresAt: Date.now() + 86_400_000,
  handedOut: [],
  startedAt: Date.now(),
  lastUsedAt: Date.now(),
});

beforeAll(async () => {
  if (!redisMissing) redis = await startRedis();
});
afterAll(async () => {
  for (const state of opened) await state.close();
  await redis?.stop();
});

describe.skipIf(redisMissing)('sessions in Redis', () => {
  it('are shared by replicas: written by one, found, read and removed by the other', async () => {
    const [one, two] = [await replica(), await replica()];
    await one.put('id-1', record('refresh-a', ['EMAIL:ada@example.com', 'ID:1']));
    await one.put('id-2', record('refresh-a', ['EMAIL:ada@example.com']));
    expect((await two.get('id-1'))?.refreshToken).toBe('refresh-a');
    expect((await two.find(['EMAIL:ada@example.com'])).sort()).toEqual(['id-1', 'id-2']);
    // The other holder of the refresh token is known; once it goes too, none.
    expect(await two.remove('id-1', record('refresh-a', ['EMAIL:ada@example.com', 'ID:1']))).toEqual([
      'id-2',
    ]);
    expect(await two.remove('id-2', record('refresh-a', ['EMAIL:ada@example.com']))).toEqual([]);
    expect(await one.get('id-1')).toBeUndefined();
    expect(await one.find(['EMAIL:ada@example.com', 'ID:1'])).toEqual([]);
  });

  it('sweep on one replica at a time', async () => {
    const [one, two] = [await replica(), await replica()];
    const claims = await Promise.all([one.claimSweep(5000), two.claimSweep(5000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('cannot be read under another app token', async () => {
    const [one, other] = [await replica(), await replica('another-app-token-entirely')];
    await one.put('id-3', record('refresh-b', ['SSO:sso-ada']));
    expect(await other.get('id-3')).toBeUndefined();
    expect(await other.find(['SSO:sso-ada'])).toEqual([]);
  });
});
