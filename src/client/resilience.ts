import {
  BrokenCircuitError,
  CircuitState,
  circuitBreaker,
  DelegateBackoff,
  decorrelatedJitterGenerator,
  handleWhen,
  type IRetryBackoffContext,
  IsolatedCircuitError,
  retry,
  SamplingBreaker,
} from 'cockatiel';
import {
  AbortedError,
  type CircleError,
  CircuitOpenError,
  isCircleError,
  RateLimitedError,
  traitsOf,
  UpstreamConnectionError,
  UpstreamTimeoutError,
} from './errors.js';

/**
 * Retry classes, by what the operation means rather than by HTTP method. Which errors each class
 * retries is read from `errorTraits` in errors.ts:
 *
 * - `issue` (auth_token) mints a live token on every call that reaches Circle. A retry after the
 *   request may have been sent would leave an extra live refresh token nobody holds, so only
 *   failures in the connect phase (refused, DNS, connect timeout) and 429s (Circle did not act)
 *   are retried.
 * - `refresh` mints an access token but does not rotate the refresh token, so a duplicate costs only
 *   an unused short-lived token: retried once on 5xx, timeout or a dropped connection.
 * - `revoke` is idempotent: retried with exponential backoff and decorrelated jitter, bounded by
 *   `revokeMaxAttempts` and by the call's overall deadline.
 * - `probe` (readiness) is never retried: a readiness check answers what it saw, and whoever polls
 *   it (a load balancer) asks again anyway.
 *
 * Every class waits out a 429 once when `Retry-After` is short (≤ `maxRetryAfterWaitMs`) and fits the
 * deadline; otherwise the 429 is returned and the whole client fails fast with `RATE_LIMITED` until
 * the window passes, so the gateway stops spending Circle's shared per-IP budget.
 *
 * Each attempt runs inside one shared circuit breaker that degrades in proportion: it opens when,
 * over the last `breakerWindowMs`, more than `breakerFailureRate` of at least `breakerMinimumCalls`
 * attempts failed with a code whose `breaker` trait is set (5xx, timeout, connection, broken
 * contract). A partial outage (a quarter of calls failing) leaves it closed, so three calls in four
 * still succeed; a dead Circle opens it. While open every call fails fast with `CIRCUIT_OPEN`;
 * after `breakerHalfOpenAfterMs` one trial call decides, and a success closes it with a clean window.
 */
export type RetryClass = 'issue' | 'refresh' | 'revoke' | 'probe';

export interface ResilienceOptions {
  /** Overall deadline of one call, retries and waits included. Default 10000 ms. */
  deadlineMs?: number;
  /** Attempts for a revoke, the first included. Default 4. */
  revokeMaxAttempts?: number;
  /** First backoff delay for revokes. Default 100 ms (then exponential with jitter, capped at 2 s). */
  revokeBaseDelayMs?: number;
  /** Longest `Retry-After` waited out inside a call. Default 2000 ms. */
  maxRetryAfterWaitMs?: number;
  /** Back-off after a 429 without `Retry-After` (Circle advises about a minute). Default 60 s. */
  rateLimitBackoffSeconds?: number;
  /** Share of failed attempts in the window that opens the breaker, above 0 and below 1. Default 0.5. */
  breakerFailureRate?: number;
  /** The window the failure rate is measured over. Default 10000 ms. */
  breakerWindowMs?: number;
  /** Attempts the window must hold before the rate can open the breaker. Default 10. */
  breakerMinimumCalls?: number;
  /** Time the breaker stays open before a trial call. Default 3000 ms. */
  breakerHalfOpenAfterMs?: number;
}

export interface Resilience {
  run<T>(
    retryClass: RetryClass,
    attempt: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  readonly rateLimitBackoffSeconds: number;
  breakerState(): BreakerState;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

function option(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new TypeError(`createClient: ${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Whether a failed attempt's error shows that the request never left this process. */
function failedBeforeSend(error: unknown): boolean {
  return (
    (error instanceof UpstreamConnectionError || error instanceof UpstreamTimeoutError) && error.beforeSend
  );
}

/** cockatiel's sampling breaker, with its minimum throughput given as a count of calls in the window. */
function samplingBreaker(options: ResilienceOptions): SamplingBreaker {
  const rate = options.breakerFailureRate ?? 0.5;
  if (!(rate > 0 && rate < 1)) {
    throw new TypeError(
      `createClient: breakerFailureRate must be a number above 0 and below 1, got ${String(rate)}`,
    );
  }
  const windowMs = option('breakerWindowMs', options.breakerWindowMs, 10_000, 1000);
  const minimumCalls = option('breakerMinimumCalls', options.breakerMinimumCalls, 10);
  return new SamplingBreaker({
    threshold: rate,
    duration: windowMs,
    // Half a call below the minimum, so float rounding never asks for one call more than set.
    minimumRps: (minimumCalls - 0.5) / (windowMs / 1000),
  });
}

export function createResilience(options: ResilienceOptions = {}): Resilience {
  const deadlineMs = option('deadlineMs', options.deadlineMs, 10_000);
  const revokeMaxAttempts = option('revokeMaxAttempts', options.revokeMaxAttempts, 4);
  const revokeBaseDelayMs = option('revokeBaseDelayMs', options.revokeBaseDelayMs, 100, 0);
  const maxRetryAfterWaitMs = option('maxRetryAfterWaitMs', options.maxRetryAfterWaitMs, 2000, 0);
  const rateLimitBackoffSeconds = option('rateLimitBackoffSeconds', options.rateLimitBackoffSeconds, 60, 0);
  const breaker = circuitBreaker(
    handleWhen((error) => traitsOf(error)?.breaker === true),
    {
      halfOpenAfter: option('breakerHalfOpenAfterMs', options.breakerHalfOpenAfterMs, 3000),
      breaker: samplingBreaker(options),
    },
  );
  let blockedUntil = 0;

  const maxRetries: Record<RetryClass, number> = {
    issue: 2,
    refresh: 1,
    revoke: revokeMaxAttempts - 1,
    probe: 0,
  };
  /** The classes where a duplicate call is harmless (no live token is left behind by a retry). */
  const duplicateTolerant: Record<RetryClass, boolean> = {
    issue: false,
    refresh: true,
    revoke: true,
    probe: false,
  };

  function retryable(retryClass: RetryClass, error: unknown, remainingMs: number): boolean {
    const traits = traitsOf(error);
    if (!traits) return false;
    if (traits.retryBeforeSend && failedBeforeSend(error)) return true;
    switch (traits.retryAfterSend) {
      case 'retry-after': {
        if (!(error instanceof RateLimitedError)) return false;
        const waitMs = error.retryAfterSeconds * 1000;
        return error.status === 429 && waitMs <= maxRetryAfterWaitMs && waitMs < remainingMs;
      }
      case 'duplicate-tolerant':
        return duplicateTolerant[retryClass];
      case 'duplicate-tolerant-5xx':
        return duplicateTolerant[retryClass] && ((error as CircleError).status ?? 0) >= 500;
      default:
        return false;
    }
  }

  function noteRateLimited(error: RateLimitedError) {
    blockedUntil = Math.max(blockedUntil, Date.now() + error.retryAfterSeconds * 1000);
  }

  async function run<T>(
    retryClass: RetryClass,
    attempt: (signal: AbortSignal) => Promise<T>,
    callerSignal?: AbortSignal,
  ): Promise<T> {
    const waitSeconds = Math.ceil((blockedUntil - Date.now()) / 1000);
    if (waitSeconds > 0) throw new RateLimitedError(waitSeconds);
    if (callerSignal?.aborted) throw new AbortedError();

    const started = Date.now();
    // One controller per call, aborted by the deadline or the caller (cheaper on the hot path than
    // AbortSignal.timeout + AbortSignal.any, which allocate and register far more).
    const controller = new AbortController();
    const signal = controller.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, deadlineMs);
    const onCallerAbort = () => controller.abort();
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const remaining = () => deadlineMs - (Date.now() - started);
    const policy = retry(
      handleWhen((error) => retryable(retryClass, error, remaining())),
      {
        maxAttempts: maxRetries[retryClass],
        backoff: new DelegateBackoff<IRetryBackoffContext<unknown>, [number, number] | undefined>(
          (context, state) => {
            const error = 'error' in context.result ? context.result.error : undefined;
            if (error instanceof RateLimitedError) return { delay: error.retryAfterSeconds * 1000, state };
            // decorrelated jitter, as cockatiel's ExponentialBackoff; never sleeping past the deadline
            const [delay, next] = decorrelatedJitterGenerator(state, {
              generator: decorrelatedJitterGenerator,
              initialDelay: revokeBaseDelayMs,
              maxDelay: 2000,
              exponent: 2,
            });
            return { delay: Math.max(0, Math.min(delay, remaining() - 1)), state: next };
          },
        ),
      },
    );

    try {
      return await policy.execute(
        () =>
          breaker.execute(async () => {
            try {
              return await attempt(signal);
            } catch (error) {
              // The deadline firing mid-request is an upstream timeout, and counts towards the breaker.
              if (timedOut && !callerSignal?.aborted) throw new UpstreamTimeoutError(false, { cause: error });
              throw error;
            }
          }),
        signal,
      );
    } catch (error) {
      throw translate(error, callerSignal);
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  function translate(error: unknown, callerSignal: AbortSignal | undefined): CircleError {
    if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
      return new CircuitOpenError();
    }
    if (callerSignal?.aborted) return new AbortedError({ cause: error });
    if (error instanceof RateLimitedError) noteRateLimited(error);
    if (isCircleError(error)) return error;
    return new UpstreamConnectionError(false, { cause: error });
  }

  return {
    run,
    rateLimitBackoffSeconds,
    breakerState() {
      switch (breaker.state) {
        case CircuitState.Open:
        case CircuitState.Isolated:
          return 'open';
        case CircuitState.HalfOpen:
          return 'half-open';
        default:
          return 'closed';
      }
    },
  };
}
