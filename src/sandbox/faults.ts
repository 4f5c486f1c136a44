import { z } from 'zod';

/**
 * Fault injection. Rates are probabilities per request; `queue` holds faults for the next requests,
 * one each, in order, so tests can script an exact sequence. Faults apply to the Circle routes
 * only, never to the admin routes.
 */
const rate = z.number().min(0).max(1);

const queuedFaultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('error'),
    status: z.number().int().min(500).max(599).default(503),
    /** An HTML page instead of Circle's JSON error body, as a proxy in front of Circle would send. */
    html: z.boolean().default(false),
  }),
  z.object({ kind: z.literal('rateLimit'), retryAfterSeconds: z.number().int().min(0).optional() }),
  z.object({ kind: z.literal('hang') }),
  z.object({ kind: z.literal('reset') }),
  z.object({ kind: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }),
  /** A 200 whose body is `body` verbatim (truncated JSON, wrong types, empty). */
  z.object({ kind: z.literal('raw'), status: z.number().int().min(100).max(599), body: z.string() }),
]);

const faultsSchema = z
  .object({
    /** Added to every answer, in ms. */
    latencyMs: z.number().int().min(0).max(600_000).default(0),
    /** Up to this many ms more, uniformly at random. */
    jitterMs: z.number().int().min(0).max(600_000).default(0),
    /** Share of requests answered with a 503 JSON error. */
    errorRate: rate.default(0),
    /** Share of requests that never get an answer (until the connection closes). */
    hangRate: rate.default(0),
    /** Share of requests whose connection is reset without an answer. */
    resetRate: rate.default(0),
    /** A 429 burst: the next `rateLimitBurst` requests get 429. */
    rateLimitBurst: z.number().int().min(0).default(0),
    /** `Retry-After` sent with burst 429s; absent when unset, as Circle documents none. */
    rateLimitRetryAfterSeconds: z.number().int().min(0).optional(),
    queue: z.array(queuedFaultSchema).default([]),
  })
  .strict();

export type Faults = z.infer<typeof faultsSchema>;
export type FaultsInput = z.input<typeof faultsSchema>;
export type QueuedFault = z.infer<typeof queuedFaultSchema>;
export type AppliedFault = QueuedFault | { kind: 'none' };

export function parseFaults(input: unknown): Faults {
  const parsed = faultsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid faults: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Picks (and consumes) the fault for one request, and the latency to add. */
export function nextFault(
  faults: Faults,
  random: () => number = Math.random,
): { fault: AppliedFault; delayMs: number } {
  const delayMs = faults.latencyMs + (faults.jitterMs > 0 ? Math.floor(random() * faults.jitterMs) : 0);
  const queued = faults.queue.shift();
  if (queued) return { fault: queued, delayMs };
  if (faults.rateLimitBurst > 0) {
    faults.rateLimitBurst -= 1;
    return { fault: { kind: 'rateLimit', retryAfterSeconds: faults.rateLimitRetryAfterSeconds }, delayMs };
  }
  if (faults.hangRate > 0 && random() < faults.hangRate) return { fault: { kind: 'hang' }, delayMs };
  if (faults.resetRate > 0 && random() < faults.resetRate) return { fault: { kind: 'reset' }, delayMs };
  if (faults.errorRate > 0 && random() < faults.errorRate) {
    return { fault: { kind: 'error', status: 503, html: false }, delayMs };
  }
  return { fault: { kind: 'none' }, delayMs };
}
