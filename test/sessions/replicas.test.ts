import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, type Launched, launch } from '../../bench/launch.js';
import { type ManualClock, type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type RedisServer, redisMissing, startRedis } from '../../support/redis.js';
import { signMemberJwt, testJwt } from '../support/jwt.js';

/**
 * Two gateway processes sharing one Redis and one sandbox, with sessions on: a session started on
 * one is served and ended on the other; a refresh many requests need, on both, is one call at
 * Circle; Redis holds no token, cookie value or email in any encoding; and while Redis is down a
 * session request gets a typed answer, never a 5xx or a session from stale memory.
 */
const page = 'http://localhost:5173';
const apiKey = 'sessions-replicas-api-key-0123456789';
const browser = { origin: page, 'x-circle-csrf': '1', 'content-type': 'application/json' };
const fields = `__typename ... on SessionToken { accessToken accessTokenExpiresAt } ... on Error { code message }`;

let redis: RedisServer;
let sandbox: Sandbox;
const replicas: { process: Launched; url: string }[] = [];
const seen = new Set<string>();

async function post(i: number, query: string, headers: Record<string, string>) {
  const response = await fetch(replicas[i % 2]?.url as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  const body = JSON.parse(text) as { data?: Record<string, Record<string, string>>; errors?: unknown[] };
  return {
    status: response.status,
    headers: response.headers,
    body,
    field: Object.values(body.data ?? {})[0],
  };
}
async function start(i: number) {
  const jwt = await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada');
  const answer = await post(i, `mutation { startSession { ${fields} } }`, {
    ...browser,
    authorization: `Bearer ${jwt}`,
  });
  const setCookie = answer.headers.get('set-cookie') ?? '';
  const cookie = /^([^;]+);/.exec(setCookie)?.[1] ?? '';
  seen.add(cookie.split('=')[1] ?? '');
  if (answer.field?.accessToken) seen.add(answer.field.accessToken);
  return { ...answer, cookie };
}
const token = async (i: number, cookie: string) => {
  const answer = await post(i, `{ sessionToken { ${fields} } }`, { ...browser, cookie });
  if (answer.field?.accessToken) seen.add(answer.field.accessToken);
  return answer;
};
const state = async (token: string) =>
  (
    (await (
      await fetch(`${sandbox.url}/__sandbox/token-state`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sandbox.appToken}` },
        body: JSON.stringify({ access_token: token }),
      })
    ).json()) as { state: string }
  ).state;

beforeAll(async () => {
  if (redisMissing) return;
  buildDist();
  redis = await startRedis();
  sandbox = await startSandbox();
  for (let i = 0; i < 2; i++) {
    const child = launch(
      'dist/main.js',
      {
        PATH: process.env.PATH ?? '',
        CIRCLE_APP_TOKEN: sandbox.appToken,
        CIRCLE_BASE_URL: sandbox.url,
        GATEWAY_API_KEYS: `backend:${apiKey}`,
        GATEWAY_JWT_SECRET: testJwt.secret,
        GATEWAY_JWT_ISSUER: testJwt.issuer,
        GATEWAY_JWT_AUDIENCE: testJwt.audience,
        CORS_ORIGINS: page,
        SESSIONS: 'on',
        REDIS_URL: redis.url,
        GATEWAY_REPLICAS: '2',
        PORT: '0',
        METRICS_PORT: 'off',
        LOG_LEVEL: 'info',
      },
      /listening at (http:\S+\/graphql)\n/,
    );
    const [, url] = await child.match;
    replicas.push({ process: child, url: url as string });
  }
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) replica.process.child.kill('SIGKILL');
  await sandbox?.close();
  await redis?.stop();
});

describe.skipIf(redisMissing)('sessions on two replicas sharing Redis', () => {
  it('serve on one what the other started, with no upstream call, and end it there', async () => {
    const started = await start(0);
    expect(started.field?.__typename).toBe('SessionToken');
    const calls = { ...sandbox.stats().calls };
    const other = await token(1, started.cookie);
    expect(other.field).toEqual(started.field);
    expect(sandbox.stats().calls).toEqual(calls);
    const ended = await post(1, 'mutation { endSession { __typename ... on TokenRevoked { revoked } } }', {
      ...browser,
      cookie: started.cookie,
    });
    expect(ended.field).toEqual({ __typename: 'TokenRevoked', revoked: true });
    expect(await state(started.field?.accessToken as string)).toBe('revoked');
    expect((await token(0, started.cookie)).field).toMatchObject({ code: 'NO_SESSION' });
  });

  it('make one refresh at Circle for a token many requests on both replicas need at once', async () => {
    // Tokens minted now expire within the refresh margin: every sessionToken must refresh.
    const clock = sandbox.clock as ManualClock;
    clock.advance(-3_450_000);
    const started = await start(0);
    await sandbox.setFaults({ latencyMs: 300 });
    const before = sandbox.stats().calls.refresh;
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => token(i, started.cookie)));
    await sandbox.setFaults({});
    clock.advance(3_450_000);
    expect(sandbox.stats().calls.refresh - before).toBe(1);
    const tokens = new Set(answers.map((a) => a.field?.accessToken));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).not.toBe(started.field?.accessToken);
  });

  it("end a member's sessions on any replica for a backend", async () => {
    const one = await start(0);
    const two = await start(1);
    const ended = await post(
      1,
      'mutation { endMemberSessions(by: EMAIL, value: "Ada@Example.com") { __typename ... on SessionsEnded { ended } } }',
      { 'x-api-key': apiKey },
    );
    // These two, and the one the refresh test left live.
    expect(ended.field).toEqual({ __typename: 'SessionsEnded', ended: 3 });
    for (const session of [one, two])
      expect((await token(0, session.cookie)).field).toMatchObject({ code: 'NO_SESSION' });
  });

  it('leave no token, cookie value or email in Redis, in clear, base64 or hex', async () => {
    await start(0); // one live session at least
    const entries = await redis.dump();
    const secrets = [
      ...seen,
      ...sandbox.simulator.issuedRefreshTokens(),
      'ada@example.com',
      sandbox.appToken,
    ].filter((s) => s !== '');
    expect(entries.some((e) => e.key.startsWith('cag:v1:s:'))).toBe(true);
    for (const { key, value, ttlMs } of entries) {
      const text = `${key} ${value}`;
      for (const secret of secrets) {
        for (const form of [
          secret,
          Buffer.from(secret).toString('base64'),
          Buffer.from(secret).toString('base64url'),
          Buffer.from(secret).toString('hex'),
        ])
          expect(text.includes(form), `${secret.slice(0, 6)}… in ${key}`).toBe(false);
      }
      expect(ttlMs, key).toBeGreaterThan(0);
    }
  });

  it('answer a session request typed while Redis is down, and start none whose tokens would be lost', async () => {
    const started = await start(0);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    const during = await token(1, started.cookie);
    expect(during.status).toBe(200);
    expect(during.field).toEqual({
      __typename: 'UpstreamUnavailable',
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'Session storage is unavailable right now; try again shortly.',
    });
    const mints = sandbox.stats().calls;
    const refused = await start(1);
    expect(refused.status).toBe(200);
    expect(refused.field).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(refused.headers.get('set-cookie')).toBeNull();
    // The tokens minted for it were revoked at once.
    expect(sandbox.stats().calls.revokeAccess).toBe(mints.revokeAccess + 1);
    expect(sandbox.stats().calls.revokeRefresh).toBe(mints.revokeRefresh + 1);
    await redis.restart();
  });
});
