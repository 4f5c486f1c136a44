import { type Plugin, useReadinessCheck } from 'graphql-yoga';
import { type CircleErrorCode, isCircleError } from '../client/errors.js';
import type { Upstream } from '../client/upstream.js';
import type { SharingState } from '../domain/types.js';

/** Why the gateway is not ready, in plain words: what the operator should look at. No secret. */
const reasons: Partial<Record<CircleErrorCode, string>> = {
  APP_TOKEN_REJECTED: 'Circle rejected the app token (401): check CIRCLE_APP_TOKEN.',
  NOT_ELIGIBLE:
    'Circle refused the app token (403): the community has no headless access, or it is not a Headless Auth token.',
  RATE_LIMITED: "Circle's rate limit was reached; the gateway is backing off.",
  UPSTREAM_TIMEOUT: 'Circle did not answer in time.',
  UPSTREAM_CONNECTION: 'Circle is unreachable (the connection failed).',
  CIRCUIT_OPEN: 'The circuit breaker is open: most recent calls to Circle failed.',
};

function reasonOf(error: unknown): string {
  if (!isCircleError(error)) return 'Circle could not be checked.';
  return reasons[error.code] ?? `Circle answered the readiness probe with ${error.code}.`;
}

/** What `/ready` says of the shared state, when the replicas share it through Redis. */
const sharingNotes: Record<SharingState, string | undefined> = {
  memory: undefined,
  shared: undefined,
  insurance:
    'Redis is unreachable: rate limits, the budget and refresh flights are per replica until it answers again.',
};

export interface ReadinessOptions {
  /** Where the limits are counted (rate-limits/); `insurance` is said in the body, never a 503. */
  sharing?: () => SharingState;
  /** The upstream is the embedded sandbox, not Circle: said in the body (`sandbox: true`). */
  sandbox?: boolean;
  /** True once the process is shutting down: 503 at once, on every connection, so balancers stop routing. */
  draining?: () => boolean;
  cacheMs?: number;
}

const answer = (ready: boolean, reason: string, note?: string, sandbox?: boolean) =>
  new Response(
    `${JSON.stringify({ ready, reason: note ? `${reason} ${note}` : reason, ...(sandbox ? { sandbox } : {}) })}\n`,
    {
      status: ready ? 200 : 503,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    },
  );

/**
 * `/ready`: 200 when Circle is reachable and accepts the app token (a probe that mints nothing),
 * 503 otherwise or while the circuit breaker is open, with a JSON body `{ ready, reason }` that says
 * why in plain words. The probe's answer is cached for `cacheMs` so a load balancer polling every
 * second costs Circle at most one call per window. A Redis outage is said in the body but keeps a
 * ready replica ready: it still serves, on per-replica limits, and taking every replica out of the
 * load balancer would turn a degraded state into an outage.
 */
export function useReadiness(client: Upstream, options: ReadinessOptions = {}): Plugin {
  const cacheMs = options.cacheMs ?? 10_000;
  let last: { at: number; reason: Promise<string | undefined> } | undefined;
  return useReadinessCheck({
    endpoint: '/ready',
    check: async () => {
      if (options.draining?.()) return answer(false, 'Shutting down: finishing the requests in flight.');
      const note = sharingNotes[options.sharing?.() ?? 'memory'];
      const { sandbox } = options;
      if (client.breakerState() === 'open')
        return answer(false, reasons.CIRCUIT_OPEN as string, note, sandbox);
      if (!last || Date.now() - last.at > cacheMs) {
        last = {
          at: Date.now(),
          reason: client.api.probe().then(
            () => undefined,
            (error: unknown) => reasonOf(error),
          ),
        };
      }
      const reason = await last.reason;
      if (reason !== undefined) return answer(false, reason, note, sandbox);
      return sandbox
        ? answer(
            true,
            'Sandbox mode: the embedded simulator of Circle answers, not Circle; no real member token is served.',
            note,
            true,
          )
        : answer(true, 'Circle is reachable and accepts the app token.', note);
    },
  });
}
