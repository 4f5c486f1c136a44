/**
 * `npm run example:frontend`: a frontend on sessions. The page signs a member in with a JWT, starts
 * a session at the gateway, and from then on holds only an HttpOnly cookie and the access tokens it
 * asks for; the refresh token stays in the gateway. Three things start, all on loopback:
 * - the gateway itself (`scripts/start.mjs`, sandbox mode: the embedded Circle simulator), taking
 *   member JWTs signed with a demo secret, with sessions on (`SESSIONS=on`) and the page's origin
 *   listed (`CORS_ORIGINS`): another port of the same host, so the same site, which the
 *   SameSite=Strict cookie needs;
 * - a demo JWT issuer, standing in for your identity provider: `POST /sign-in {"email"}` signs a
 *   JWT for a demo member (no password: it is a demo, on loopback only);
 * - the page (`public/`), on its own origin, using urql from `node_modules` through an import map.
 * EXAMPLE_PORT sets the page's port (default 5173; 0 takes any free one). Ctrl-C stops all three.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { demoMembers } from '../../src/sandbox/members.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const publicDir = new URL('./public/', import.meta.url);
const secret = randomBytes(32).toString('base64url');
const issuer = 'https://issuer.example.local';
const audience = 'circle-auth-gateway-example';

/** The browser modules the page imports, and nothing else from node_modules. */
const modules: Record<string, string> = {
  '/modules/urql-core.mjs': 'node_modules/@urql/core/dist/urql-core.mjs',
  '/modules/urql-core-chunk.mjs': 'node_modules/@urql/core/dist/urql-core-chunk.mjs',
  '/modules/wonka.mjs': 'node_modules/wonka/dist/wonka.mjs',
  '/modules/graphql.web.mjs': 'node_modules/@0no-co/graphql.web/dist/graphql.web.mjs',
};
const pages: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
};

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) break;
  }
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

let gatewayUrl = '';
const page = createServer(async (req: IncomingMessage, res: ServerResponse) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'POST' && path === '/sign-in') {
    const { email } = await readJson(req);
    const member = demoMembers.find((m) => m.email === email);
    if (!member) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such demo member"}');
      return;
    }
    const jwt = await new SignJWT({ email: member.email, email_verified: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(`demo-${member.id}`)
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(Buffer.from(secret));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jwt, email: member.email }));
    return;
  }
  if (path === '/favicon.ico') {
    res.writeHead(204).end();
    return;
  }
  if (path === '/config.json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ gatewayUrl }));
    return;
  }
  const module = modules[path];
  const file = pages[path];
  if (req.method !== 'GET' || (!module && !file)) {
    res.writeHead(404).end();
    return;
  }
  // urql's entry imports its chunk as ./urql-core-chunk.mjs: both are served from /modules/.
  const body = module ? readFileSync(`${root}${module}`) : readFileSync(new URL(file?.[0] ?? '', publicDir));
  res
    .writeHead(200, { 'content-type': module ? 'text/javascript; charset=utf-8' : (file?.[1] ?? '') })
    .end(body);
});

const port = Number(process.env.EXAMPLE_PORT ?? 5173);
await new Promise<void>((resolve) => page.listen(port, '127.0.0.1', resolve));
const pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

const gateway = spawn(process.execPath, ['scripts/start.mjs'], {
  cwd: root,
  env: {
    PATH: process.env.PATH ?? '',
    PORT: process.env.EXAMPLE_GATEWAY_PORT ?? '0',
    SANDBOX_PORT: '0',
    METRICS_PORT: 'off',
    LOG_LEVEL: 'warn',
    GATEWAY_JWT_SECRET: secret,
    GATEWAY_JWT_ISSUER: issuer,
    GATEWAY_JWT_AUDIENCE: audience,
    CORS_ORIGINS: pageOrigin,
    SESSIONS: 'on',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
let sandboxUrl = '';
gatewayUrl = await new Promise<string>((resolve, reject) => {
  gateway.stdout?.on('data', (chunk) => {
    out += chunk;
    const found = /GraphiQL: {2}(http:\S+\/graphql)[\s\S]*sandbox listening at (http:\S+)/.exec(out);
    if (found) {
      sandboxUrl = found[2] as string;
      resolve(found[1] as string);
    }
  });
  gateway.once('exit', (code) => reject(new Error(`the gateway exited with ${code}: ${out}`)));
});
gateway.stdout?.resume();
process.stdout.write(
  `frontend example: open ${pageOrigin}/ (the gateway is at ${gatewayUrl}, its sandbox at ${sandboxUrl})\n`,
);

const stop = () => {
  gateway.kill('SIGTERM');
  page.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
