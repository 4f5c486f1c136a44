import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { authenticatedCaller } from './use-caller-authentication.js';
import { requestIdOf } from './use-request-id.js';
import { traceIdOf } from './use-tracing.js';

interface RequestRecord {
  started: number;
  operationName?: string;
  /** Upstream calls the request made so far (its loaders report them). */
  upstreamCalls?: () => number;
}

const records = new WeakMap<Request, RequestRecord>();
// Operation names are the document's identifiers; anything else is not logged.
const graphqlName = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/** Lets the access log read how many upstream calls a request made (called by the context factory). */
export function countUpstreamCalls(request: Request, count: () => number): void {
  const record = records.get(request);
  if (record) record.upstreamCalls = count;
}

/**
 * One line per request, at info: request id, operation name, HTTP status, duration, the caller's
 * kind and name (a backend's configured name; never a key or a member's identity), and the upstream
 * calls it made. Nothing from the body, no header value, no token.
 */
export function useAccessLog(logger: Logger): Plugin {
  return {
    onRequest({ request }) {
      records.set(request, { started: performance.now() });
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const record = request && records.get(request);
      const name = getOperationAST(args.document, args.operationName)?.name?.value;
      if (record && name && graphqlName.test(name)) record.operationName = name;
    },
    onResponse({ request, response }) {
      if (!logger.isLevelEnabled('info')) return;
      const record = records.get(request);
      const caller = authenticatedCaller(request);
      logger.info(
        {
          requestId: requestIdOf(request),
          method: request.method,
          path: new URL(request.url).pathname,
          status: response.status,
          durationMs: record ? Math.round((performance.now() - record.started) * 10) / 10 : undefined,
          operationName: record?.operationName,
          caller: caller
            ? { kind: caller.kind, ...(caller.kind === 'backend' ? { name: caller.name } : {}) }
            : undefined,
          upstreamCalls: record?.upstreamCalls?.() ?? 0,
          traceId: traceIdOf(request),
        },
        'request',
      );
    },
  };
}
