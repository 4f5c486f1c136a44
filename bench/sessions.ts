/**
 * `npm run bench:sessions`: what sessions save, measured on the built gateway and sandbox.
 *
 * 1. Upstream calls per member-hour. N members each load M pages in an hour, each page asking for
 *    a token: with sessions (the first load starts one, the others ask `sessionToken`) against
 *    `memberToken` per page (the member's JWT). Circle's hour is scaled down: the sandbox's access
 *    tokens live 36 s (`SANDBOX_ACCESS_TOKEN_TTL_S`) and the refresh margin is 3 s, a hundredth of
 *    the real 3600 s and 300 s, so one member-hour takes 36 s; page loads fall at random times in it.
 *    Printed: the sandbox's calls per member-hour for each, and their ratio.
 * 2. CPU per operation: `sessionToken` (cookie, no upstream call) against `memberToken` (API key,
 *    one mint), on one gateway with sessions in memory and one with them in Redis; closed loop at
 *    8 connections, 3 rounds alternated, medians.
 *
 * Loopback only; every process it starts is stopped at the end.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { Agent, fetch } from 'undici';
import { type RedisServer, startRedis } from '../support/redis.js';
import {
  benchApiKey,
  benchMembersFile,
  buildDist,
  cpuMs,
  forNextMember,
  type Launched,
  launchClean,
  median,
} from './launch.js';

const appToken = 'sessions-bench-app-token-0123456789';
const jwtSecret = 'sessions-bench-jwt-secret-of-32-chars-or-more';
const issuer = 'https://issuer.bench.local';
const audience = 'circle-auth-gateway-bench';
const page = 'http://localhost:5173';
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 20);
const PAGES = Number(process.env.BENCH_PAGES_PER_HOUR ?? 20);
const SCALE = 100; // Circle's hour in 36 s
const OPS = Number(process.env.BENCH_OPS ?? 3000);

const launched: Launched[] = [];
let redis: RedisServer | undefined;
const start = (script: string, env: Record<string, string>, ready: RegExp) => {
  const child = launchClean(script, env, ready);
  launched.push(child);
  return child;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const agent = new Agent({ connections: 8 });

async function sandbox(extra: Record<string, string>) {
  const child = start(
    'dist/sandbox/main.js',
    { SANDBOX_APP_TOKEN: appToken, SANDBOX_PORT: '0', ...extra },
    /listening at (http:\/\/\S+)/,
  );
  const url = String((await child.match)[1]);
  const stats = async () =>
    (
      (await (
        await fetch(`${url}/__sandbox/stats`, { headers: { authorization: `Bearer ${appToken}` } })
      ).json()) as {
        calls: Record<string, number>;
      }
    ).calls;
  return { url, stats };
}

async function gateway(upstream: string, extra: Record<string, string> = {}) {
  const child = start(
    'dist/main.js',
    {
      NODE_ENV: 'production',
      NODE_OPTIONS: '--max-semi-space-size=8',
      CIRCLE_APP_TOKEN: appToken,
      CIRCLE_BASE_URL: upstream,
      GATEWAY_API_KEYS: `bench:${benchApiKey}`,
      GATEWAY_JWT_SECRET: jwtSecret,
      GATEWAY_JWT_ISSUER: issuer,
      GATEWAY_JWT_AUDIENCE: audience,
      GATEWAY_JWT_EMAILS_ALWAYS_VERIFIED: 'true',
      CORS_ORIGINS: page,
      SESSIONS: 'on',
      PORT: '0',
      METRICS_PORT: 'off',
      LOG_LEVEL: 'warn',
      AUDIT_LOG_FILE: join(mkdtempSync(join(tmpdir(), 'cag-sessions-')), 'audit.jsonl'),
      RATE_LIMIT_PER_CALLER: '1000000',
      RATE_LIMIT_PER_MEMBER: '1000000',
      CIRCLE_REQUEST_BUDGET: '1000000',
      ...extra,
    },
    /listening at (http:\/\/\S+\/graphql)/,
  );
  return { url: String((await child.match)[1]), pid: child.child.pid as number };
}

const jwtFor = (email: string) =>
  new SignJWT({ email })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(email)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(jwtSecret));

const fields =
  '__typename ... on SessionToken { accessToken accessTokenExpiresAt } ... on Error { code message }';
async function post(
  url: string,
  query: string,
  headers: Record<string, string>,
  variables?: Record<string, string>,
) {
  const response = await fetch(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  const body = (await response.json()) as { data?: Record<string, { __typename: string }> };
  return { response, field: Object.values(body.data ?? {})[0] };
}
const browser = { origin: page, 'x-circle-csrf': '1' };

async function startSession(url: string, email: string): Promise<string> {
  const { response, field } = await post(url, `mutation { startSession { ${fields} } }`, {
    ...browser,
    authorization: `Bearer ${await jwtFor(email)}`,
  });
  if (field?.__typename !== 'SessionToken') throw new Error(`startSession: ${JSON.stringify(field)}`);
  return /^([^;]+);/.exec(response.headers.get('set-cookie') ?? '')?.[1] ?? '';
}

/** Part 1: a scaled member-hour of page loads, with sessions or memberToken per page. */
async function memberHour(mode: 'sessions' | 'memberToken') {
  const emails = Array.from({ length: MEMBERS }, (_, i) => `member${i + 1}@bench.example`);
  const file = join(mkdtempSync(join(tmpdir(), 'cag-members-')), 'members.json');
  writeFileSync(
    file,
    JSON.stringify(
      emails.map((email, i) => ({ id: i + 1, email, ssoId: `sso-${i + 1}`, name: `Member ${i + 1}` })),
    ),
  );
  const circle = await sandbox({
    SANDBOX_ACCESS_TOKEN_TTL_S: String(3600 / SCALE),
    SANDBOX_MEMBERS_FILE: file,
  });
  const gw = await gateway(circle.url, { SESSION_REFRESH_MARGIN_S: String(300 / SCALE) });
  const hourMs = 3_600_000 / SCALE;
  const jwts = await Promise.all(emails.map(jwtFor));
  const cookies = new Map<number, Promise<string>>();
  const failures: string[] = [];
  const loads = emails.flatMap((email, member) =>
    Array.from({ length: PAGES }, () => ({ member, email, at: Math.random() * hourMs })),
  );
  const started = performance.now();
  await Promise.all(
    loads.map(async ({ member, email, at }) => {
      await sleep(at);
      if (mode === 'memberToken') {
        const { field } = await post(
          gw.url,
          `{ memberToken(by: EMAIL, value: "${email}") { __typename ... on Error { code } } }`,
          { authorization: `Bearer ${jwts[member]}` },
        );
        if (field?.__typename !== 'MemberToken') failures.push(JSON.stringify(field));
        return;
      }
      // A page load: the first of a member's starts its session, every later one asks for its token.
      let cookie = cookies.get(member);
      if (!cookie) {
        cookie = startSession(gw.url, email);
        cookies.set(member, cookie);
        await cookie;
        return;
      }
      const { field } = await post(gw.url, `{ sessionToken { ${fields} } }`, {
        ...browser,
        cookie: await cookie,
      });
      if (field?.__typename !== 'SessionToken') failures.push(JSON.stringify(field));
    }),
  );
  const calls = await circle.stats();
  const upstream = (calls.authToken ?? 0) + (calls.refresh ?? 0);
  return {
    mode,
    seconds: (performance.now() - started) / 1000,
    mints: calls.authToken,
    refreshes: calls.refresh,
    perMemberHour: upstream / MEMBERS,
    failures,
  };
}

/** Part 2: the gateway's CPU per operation, closed loop at 8 connections. */
async function cpuPerOp(gw: { url: string; pid: number }, send: () => Promise<unknown>) {
  let left = OPS;
  const before = cpuMs(gw.pid);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0) await send();
    }),
  );
  return {
    cpuUs: ((cpuMs(gw.pid) - before) * 1000) / OPS,
    rps: OPS / ((performance.now() - started) / 1000),
  };
}

async function main() {
  buildDist();
  process.stdout.write(
    `bench:sessions on Node ${process.version}: ${MEMBERS} members x ${PAGES} page loads per hour (an hour scaled to ${3600 / SCALE} s)\n`,
  );
  const withSessions = await memberHour('sessions');
  const perPage = await memberHour('memberToken');
  for (const result of [withSessions, perPage]) {
    process.stdout.write(
      `  ${result.mode.padEnd(11)}: ${result.mints} mints + ${result.refreshes} refreshes = ${result.perMemberHour.toFixed(2)} upstream calls per member-hour (${result.failures.length} failures${result.failures.length ? `: ${result.failures[0]}` : ''})\n`,
    );
  }
  process.stdout.write(
    `  sessions / memberToken per page: ${(withSessions.perMemberHour / perPage.perMemberHour).toFixed(3)}\n`,
  );

  redis = await startRedis();
  // memberToken for the next of 64 members each time (launch.ts): no two mints in flight coalesce.
  const circle = await sandbox({ SANDBOX_MEMBERS_FILE: benchMembersFile() });
  const gateways = {
    memory: await gateway(circle.url),
    redis: await gateway(circle.url, { REDIS_URL: redis.url }),
  };
  const rows: Record<string, { session: number[]; member: number[] }> = {
    memory: { session: [], member: [] },
    redis: { session: [], member: [] },
  };
  const mint =
    'query MemberToken($value: String!) { memberToken(by: EMAIL, value: $value) { __typename ... on MemberToken { accessToken refreshToken } } }';
  for (const [name, gw] of Object.entries(gateways)) {
    const cookie = await startSession(gw.url, 'ada@example.com');
    const sessionToken = () => post(gw.url, `{ sessionToken { ${fields} } }`, { ...browser, cookie });
    const memberToken = () =>
      post(gw.url, mint, { 'x-api-key': benchApiKey }, { value: forNextMember('ada@example.com') });
    await cpuPerOp(gw, sessionToken); // warm-up
    await cpuPerOp(gw, memberToken);
    for (let round = 0; round < 3; round++) {
      rows[name]?.session.push((await cpuPerOp(gw, sessionToken)).cpuUs);
      rows[name]?.member.push((await cpuPerOp(gw, memberToken)).cpuUs);
    }
  }
  process.stdout.write(`CPU per operation (gateway process, ${OPS} operations per round, median of 3):\n`);
  for (const [name, row] of Object.entries(rows)) {
    const session = median(row.session);
    const member = median(row.member);
    process.stdout.write(
      `  sessions in ${name.padEnd(6)}: sessionToken ${session.toFixed(0)} µs, memberToken ${member.toFixed(0)} µs, ratio ${(session / member).toFixed(2)}\n`,
    );
  }
}

try {
  await main();
} finally {
  for (const child of launched) child.child.kill('SIGKILL');
  await redis?.stop();
  await agent.close();
}
