// Peer for `npm run bench`: Apollo Server 5 (standalone, node:http) with a RESTDataSource per
// request, Apollo's documented way to call a REST API; no authentication or limits. Env: UPSTREAM
// (origin), BENCH_APP_TOKEN. Prints `listening at <url>`.
import { RESTDataSource } from '@apollo/datasource-rest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { authTokenBody, memberToken, resolveType, typeDefs, unavailable } from './schema.mjs';

class Circle extends RESTDataSource {
  baseURL = process.env.UPSTREAM;
  willSendRequest(_path, request) {
    request.headers.authorization = `Bearer ${process.env.BENCH_APP_TOKEN ?? 'bench-app-token'}`;
  }
  authToken(body) {
    return this.post('api/v1/headless/auth_token', { body });
  }
}

const server = new ApolloServer({
  typeDefs,
  resolvers: {
    ...resolveType,
    Query: {
      async memberToken(_, { by, value }, { dataSources }) {
        try {
          return memberToken(await dataSources.circle.authToken(authTokenBody(by, value)));
        } catch (error) {
          return unavailable(error.message);
        }
      },
    },
  },
});
const { url } = await startStandaloneServer(server, {
  listen: { port: 0, host: '127.0.0.1' },
  context: async () => ({ dataSources: { circle: new Circle() } }),
});
process.stdout.write(`listening at ${url.replace('localhost', '127.0.0.1')}graphql\n`);
