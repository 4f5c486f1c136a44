import { requestSlot } from '../domain/request-slot.js';
import type { RequestLike } from '../domain/types.js';
import type { InfoLineWriter } from '../logger.js';
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

const text = JSON.stringify;

/**
 * Writes `request`'s line, answered with `status`. Each member is built here: numbers, the path
 * from a fixed set, the operation name only when it is a plain GraphQL name, the rest quoted by
 * `JSON.stringify`. A member without a value is left out, as pino leaves out `undefined`.
 */
export function writeAccessLine(writer: InfoLineWriter, request: RequestLike, status: number): void {
  if (!writer.enabled()) return;
  const record = records.get(request);
  let line = `"requestId":${text(requestIdOf(request))}`;
  const callerRequestId = callerRequestIdOf(request);
  if (callerRequestId) line += `,"callerRequestId":${text(callerRequestId)}`;
  line += `,"method":${text(request.method)},"path":"${pathOf(request.url)}","status":${status}`;
  if (record) line += `,"durationMs":${Math.round((performance.now() - record.started) * 10) / 10}`;
  if (record?.operationName) line += `,"operationName":"${record.operationName}"`;
  const caller = authenticatedCaller(request);
  if (caller?.kind === 'backend') line += `,"caller":{"kind":"backend","name":${text(caller.name)}}`;
  else if (caller) line += `,"caller":{"kind":"${caller.kind}"}`;
  line += `,"upstreamCalls":${record?.upstreamCalls?.() ?? 0}`;
  const traceId = traceIdOf(request);
  if (traceId) line += `,"traceId":"${traceId}"`;
  writer.write(line, 'request');
}
