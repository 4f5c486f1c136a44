import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

/**
 * Logs each unexpected error of `result` (one whose original is not a GraphQLError) with the request
 * id, and returns the result with the request id in its `extensions`: yoga's path and the hot path.
 */
export function logAndTagErrors(logger: Logger, result: ExecutionResult, requestId: string): ExecutionResult {
  for (const error of result.errors ?? []) {
    const original = error.originalError;
    if (!original || original instanceof GraphQLError) continue;
    logger.error(
      {
        requestId,
        path: error.path?.join('.'),
        err: { name: original.name, message: original.message, stack: original.stack },
      },
      'unexpected error',
    );
  }
  return { ...result, extensions: { ...result.extensions, requestId } };
}

/**
 * Logs every unexpected execution error with the request id (before yoga masks it as
 * "Unexpected error.") and puts the request id in the result's `extensions`, so the line a client
 * quotes is the line an operator finds. Only the error's name, message and stack are logged.
 */
export function useErrorLogging(logger: Logger): Plugin<{ request: Request }> {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          setResult(logAndTagErrors(logger, result, requestIdOf(args.contextValue.request)));
        },
      };
    },
  };
}
