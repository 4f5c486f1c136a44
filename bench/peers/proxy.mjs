// Peer for `npm run bench`: no GraphQL at all, a node:http server forwarding each POST body to the
// upstream's auth_token endpoint through an undici Pool and answering with its body: the floor any
// gateway sits on. Env: UPSTREAM, BENCH_APP_TOKEN, UPSTREAM_CONNECTIONS. Prints `listening at <url>`.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.env.UPSTREAM, { connections: Number(process.env.UPSTREAM_CONNECTIONS ?? 64) });
const authorization = `Bearer ${process.env.BENCH_APP_TOKEN ?? 'bench-app-token'}`;
const body = JSON.stringify({ email: 'ada@example.com' });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    try {
      const response = await pool.request({
        path: '/api/v1/headless/auth_token',
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
      });
      const text = await response.body.text();
      res.writeHead(response.statusCode, { 'content-type': 'application/json' });
      res.end(text);
    } catch {
      res.writeHead(502).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening at http://127.0.0.1:${server.address().port}/graphql\n`);
});
