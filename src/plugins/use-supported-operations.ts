import { getOperationAST } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Refuses a subscription with 400 before anything runs: the schema has no Subscription root (and
 * graphql-jit would throw a plain error on one, which yoga masks as a 500).
 */
export function useSupportedOperations(): Plugin {
  return {
    onParse() {
      return ({ result, context }) => {
        if (result instanceof Error) return;
        const { params } = context as { params?: { operationName?: string } };
        if (getOperationAST(result, params?.operationName)?.operation !== 'subscription') return;
        throw createGraphQLError(
          'Subscriptions are not supported: this gateway serves queries and mutations.',
          {
            extensions: { code: 'OPERATION_NOT_SUPPORTED', http: { status: 400 } },
          },
        );
      };
    },
  };
}
