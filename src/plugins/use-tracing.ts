import type { Context, Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { startRequestSpan } from '../tracing/index.js';

const spans = new WeakMap<Request, { span: Span; context: Context }>();

/** The request's span and trace context: what its upstream calls are children of. */
export function traceOf(request: Request): { span: Span; context: Context } | undefined {
  return spans.get(request);
}

/** The request's trace id, when it is traced (for the access log and the audit trail). */
export function traceIdOf(request: Request): string | undefined {
  const id = spans.get(request)?.span.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}

/**
 * A SERVER span per GraphQL request (OpenTelemetry), continuing the caller's `traceparent`; ended
 * with the HTTP status, the operation's type and name. No document, variable or header is recorded.
 */
export function useTracing(): Plugin {
  return {
    onRequest({ request }) {
      spans.set(request, startRequestSpan(request.headers));
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const traced = request && spans.get(request);
      if (!traced?.span.isRecording()) return;
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      traced.span.setAttribute('graphql.operation.type', operation.operation);
      if (operation.name) {
        traced.span.setAttribute('graphql.operation.name', operation.name.value);
        traced.span.updateName(`graphql ${operation.operation} ${operation.name.value}`);
      }
    },
    onResponse({ request, response }) {
      const traced = spans.get(request);
      if (!traced) return;
      traced.span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
      traced.span.end();
    },
  };
}
