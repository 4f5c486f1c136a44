import type { Context, Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import type { OperationDefinitionNode } from 'graphql';
import { requestSlot } from '../domain/request-slot.js';
import type { RequestLike } from '../domain/types.js';
import { startRequestSpan } from '../tracing/index.js';

const spans = requestSlot<{ span: Span; context: Context }>('trace span');

/** The request's span and trace context: what its upstream calls are children of. */
export function traceOf(request: RequestLike): { span: Span; context: Context } | undefined {
  return spans.get(request);
}

/** The request's trace id, when it is traced (for the access log and the audit trail). */
export function traceIdOf(request: RequestLike): string | undefined {
  const id = spans.get(request)?.span.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}

/**
 * Starts the request's SERVER span (OpenTelemetry), continuing the caller's `traceparent`; it ends
 * with the HTTP status, the operation's type and name. No document, variable or header is recorded.
 */
export function beginRequestTrace(request: RequestLike): void {
  spans.set(request, startRequestSpan(request.headers));
}

/** Names the span after the operation, when it records. */
export function traceOperation(request: RequestLike, operation: OperationDefinitionNode): void {
  const traced = spans.get(request);
  if (!traced?.span.isRecording()) return;
  traced.span.setAttribute('graphql.operation.type', operation.operation);
  if (operation.name) {
    traced.span.setAttribute('graphql.operation.name', operation.name.value);
    traced.span.updateName(`graphql ${operation.operation} ${operation.name.value}`);
  }
}

/** Ends the request's span with the HTTP status. */
export function endRequestTrace(request: RequestLike, status: number): void {
  const traced = spans.get(request);
  if (!traced) return;
  traced.span.setAttribute('http.response.status_code', status);
  if (status >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
  traced.span.end();
}
