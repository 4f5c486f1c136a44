// A fake of Circle's auth_token endpoint for `npm run bench`, independent of the gateway's sandbox
// so that no peer is measured against code of ours: one fixed member token, answered after the
// latency last set by `POST /__latency` (body: the milliseconds). Cheap on purpose, since it shares
// the machine's cores with the servers it serves. Prints `listening at <origin>`.
import { createServer } from 'node:http';

const appToken = process.env.BENCH_APP_TOKEN ?? 'bench-app-token';
const expected = `Bearer ${appToken}`;
const far = (days) => new Date(Date.now() + days * 86_400_000).toISOString();
const body = JSON.stringify({
  access_token: `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(
    JSON.stringify({
      community_id: 1,
      community_member_id: 101,
      sso_user_id: 'bench-sso',
      exp: Math.floor(Date.now() / 1000) + 3600,
      jti: '5f0c3c52-8a0e-4c3b-9d0b-1d9a7b3f2c11',
    }),
  ).toString('base64url')}.${'s'.repeat(43)}`,
  refresh_token: 'r'.repeat(43),
  access_token_expires_at: far(1 / 24),
  refresh_token_expires_at: far(30),
  community_member_id: 101,
  community_id: 1,
});
const unauthorized = JSON.stringify({
  success: false,
  message: 'Your account could not be authenticated.',
  error_details: {},
});
let latencyMs = 0;

function answer(res, status, text) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.url === '/__latency' && req.method === 'POST') {
      latencyMs = Number(Buffer.concat(chunks).toString()) || 0;
      answer(res, 200, JSON.stringify({ latencyMs }));
      return;
    }
    if (req.url !== '/api/v1/headless/auth_token' || req.method !== 'POST') {
      answer(res, 404, JSON.stringify({ success: false, message: 'Not found', error_details: {} }));
      return;
    }
    const [status, text] = req.headers.authorization === expected ? [200, body] : [401, unauthorized];
    if (latencyMs === 0) answer(res, status, text);
    else setTimeout(() => answer(res, status, text), latencyMs);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening at http://127.0.0.1:${server.address().port}\n`);
});
