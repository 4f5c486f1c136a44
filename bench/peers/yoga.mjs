// Peer for `npm run bench`: bare graphql-yoga on node:http, its resolver calling the upstream through
// an undici Pool; no authentication, limits or plugins. Env: UPSTREAM (origin), BENCH_APP_TOKEN,
// UPSTREAM_CONNECTIONS. Prints `listening at <url>`.
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { Pool } from 'undici';
import { authTokenBody, memberToken, resolveType, typeDefs, unavailable } from './schema.mjs';

const pool = new Pool(process.env.UPSTREAM, { connections: Number(process.env.UPSTREAM_CONNECTIONS ?? 64) });
const authorization = `Bearer ${process.env.BENCH_APP_TOKEN ?? 'bench-app-token'}`;

const yoga = createYoga({
  schema: createSchema({
    typeDefs,
    resolvers: {
      ...resolveType,
      Query: {
        async memberToken(_, { by, value }) {
          const response = await pool.request({
            path: '/api/v1/headless/auth_token',
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify(authTokenBody(by, value)),
          });
          const json = await response.body.json();
          return response.statusCode === 200 ? memberToken(json) : unavailable(json.message);
        },
      },
    },
  }),
  logging: false,
  landingPage: false,
  graphiql: false,
});

const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening at http://127.0.0.1:${server.address().port}/graphql\n`);
});
