// Hive Gateway in front of the circle-auth-gateway replicas (compose.yaml). It forwards each
// caller's own credentials to the `circle` subgraph, so members get only their own tokens and
// backends authenticate with their own API keys.
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  supergraph: './supergraph.graphql',
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, subgraphName }) =>
      subgraphName === 'circle'
        ? {
            authorization: request.headers.get('authorization') ?? undefined,
            'x-api-key': request.headers.get('x-api-key') ?? undefined,
          }
        : undefined,
  },
});
