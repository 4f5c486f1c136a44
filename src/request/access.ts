import { requestSlot } from '../domain/request-slot.js';
import type { RequestLike } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { authenticatedCaller } from './caller.js';
import { callerRequestIdOf, requestIdOf } from './id.js';
import { traceIdOf } from './trace.js';

interface RequestRecord {
  started: number;
  operationName?: string;
  /** Upstream calls the request made so far (its loaders report them). */
  upstreamCalls?: () => number;
}

const records = requestSlot<RequestRecord>('access log record');
// Operation names are the document's identifiers; anything else is not logged.
const graphqlName = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
// Paths are logged when they are the gateway's own; any other is the caller's text (it can hold an
// email), logged as `other`.
const knownPaths = new Set(['/graphql', '/health', '/ready']);

function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.indexOf('?', start);
  const path = end < 0 ? url.slice(start) : url.slice(start, end);
  return knownPaths.has(path) ? path : 'other';
}

/** Lets the access log read how many upstream calls a request made (called by the context factory). */
export function countUpstreamCalls(request: RequestLike, count: () => number): void {
  const record = records.get(request);
  if (record) record.upstreamCalls = count;
}

/** Starts timing `request` for its access-log line. */
export function beginAccessRecord(request: RequestLike, started = performance.now()): void {
  records.set(request, { started });
}

/** Notes the operation's name for the line, when it is a plain GraphQL name. */
export function noteOperationName(request: RequestLike, name: string | undefined): void {
  const record = records.get(request);
  if (record && name && graphqlName.test(name)) record.operationName = name;
}

/**
 * Writes `request`'s line, answered with `status`, through pino (which leaves out a member without
 * a value): numbers, the path from a fixed set, the operation name only when it is a plain GraphQL
 * name, the caller's kind and a backend's configured name.
 */
export function writeAccessLine(logger: Logger, request: RequestLike, status: number): void {
  if (!logger.isLevelEnabled('info')) return;
  const record = records.get(request);
  const caller = authenticatedCaller(request);
  logger.info(
    {
      requestId: requestIdOf(request),
      callerRequestId: callerRequestIdOf(request),
      method: request.method,
      path: pathOf(request.url),
      status,
      durationMs: record ? Math.round((performance.now() - record.started) * 10) / 10 : undefined,
      operationName: record?.operationName,
      caller:
        caller?.kind === 'backend'
          ? { kind: 'backend', name: caller.name }
          : caller
            ? { kind: caller.kind }
            : undefined,
      upstreamCalls: record?.upstreamCalls?.() ?? 0,
      traceId: traceIdOf(request),
    },
    'request',
  );
}
