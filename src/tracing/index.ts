import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';

/**
 * OpenTelemetry traces. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then spans go to that OTLP/HTTP
 * collector (the exporter reads the other standard OTEL_* variables itself), and an incoming W3C
 * `traceparent` continues the caller's trace, so a supergraph trace runs on into this subgraph.
 * Off, the API is a no-op and costs nothing measurable, and the SDK is not even loaded (about
 * 15 MiB of memory).
 */
export async function startTracing(options: {
  endpoint: string | undefined;
  serviceName: string;
}): Promise<Tracing | undefined> {
  if (!options.endpoint) return undefined;
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The W3C trace-context propagator and the AsyncLocalStorage context manager.
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

export interface Tracing {
  /** Sends what is buffered and stops (at shutdown). */
  shutdown(): Promise<void>;
}

export const tracer = () => trace.getTracer('circle-auth-gateway');

/** What the propagator reads: a Fetch `Headers`, or the hot path's view of node's headers. */
export interface HeaderReader {
  get(name: string): string | null;
  keys?(): Iterable<string>;
}

const headersGetter: TextMapGetter<HeaderReader> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => (headers.keys ? [...headers.keys()] : []),
};

/**
 * The span of one GraphQL request (SERVER), a child of the caller's `traceparent` when it sent one.
 * Its attributes are names and codes only: the document is never recorded (its literals can hold an
 * email or a token).
 */
export function startRequestSpan(headers: HeaderReader): { span: Span; context: Context } {
  const parent = propagation.extract(ROOT_CONTEXT, headers, headersGetter);
  const span = tracer().startSpan('graphql request', { kind: SpanKind.SERVER }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `fn` with `active` as the current trace context (so the client's spans are its children). */
export function withTraceContext<T>(active: Context | undefined, fn: () => T): T {
  return active ? context.with(active, fn) : fn();
}
