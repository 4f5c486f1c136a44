import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { RequestLike } from '../domain/types.js';
import type { RequestLifecycle } from '../request/lifecycle.js';

/**
 * Walks the request lifecycle (request/lifecycle.ts) on yoga's path: its start, the operation
 * executed and its end (before yoga masks errors, as this plugin's `onExecuteDone` runs before
 * yoga's masking plugin, which yoga adds after every plugin of ours), the result processed, and
 * every response's headers and end, errors and pages included (`onResponse` runs for every
 * response). The front door walks the same list itself.
 */
export function useRequestLifecycle(lifecycle: RequestLifecycle): Plugin<{ request: RequestLike }> {
  return {
    onRequest({ request }) {
      lifecycle.begin(request);
    },
    onExecute({ args }) {
      const contextValue = args.contextValue;
      const { request } = contextValue;
      lifecycle.execute(request, args.document, args.operationName);
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const next = lifecycle.executed(request, result, contextValue);
          if (next !== result) setResult(next);
        },
      };
    },
    onResultProcess({ request, result }) {
      if (!Array.isArray(result) && !isAsyncIterable(result))
        lifecycle.result(request, result as ExecutionResult);
    },
    onResponse({ request, response }) {
      lifecycle.headers(request, (name, value) => response.headers.set(name, value));
      lifecycle.end(request, response.status);
    },
  };
}
