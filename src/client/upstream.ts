import { type CircleApi, createApi, type UpstreamObserver } from './endpoints.js';
import { type BreakerState, createResilience, type ResilienceOptions } from './resilience.js';
import { createTransport, type TransportOptions } from './transport.js';

export type ClientOptions = TransportOptions &
  ResilienceOptions & {
    /** Sees every attempt and every call the breaker refused (metrics); changes nothing. */
    observer?: UpstreamObserver;
    /**
     * A CLIENT span per attempt (OpenTelemetry's global API, a no-op without a provider); default
     * true. The gateway passes false when it exports no traces: a span then records nothing and
     * still costs each call its context objects.
     */
    spans?: boolean;
  };

/**
 * The client as the gateway uses it: one typed function per endpoint (each rejects with a typed
 * `CircleError` on every failure), the circuit breaker's state, and shutting the pool down. The
 * SDK-shaped facade (sdk.ts) is built on the same thing.
 */
export interface Upstream {
  readonly api: CircleApi;
  breakerState(): BreakerState;
  /** Closes the connection pool (not an injected dispatcher). */
  close(): Promise<void>;
}

export function createUpstream(options: ClientOptions): Upstream {
  const transport = createTransport(options);
  const resilience = createResilience(options);
  return {
    api: createApi(transport, resilience, options.observer, { spans: options.spans ?? true }),
    breakerState: () => resilience.breakerState(),
    close: () => transport.close(),
  };
}
