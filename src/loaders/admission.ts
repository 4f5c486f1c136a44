import { RateLimitedResult } from '../domain/outcomes.js';
import type { TokenOperation } from '../domain/types.js';
import type { LoaderDeps } from './index.js';
import { tokenKey } from './single-flight.js';

/**
 * A request's admissions: each field against the caller's and the subject's limits (and Circle's
 * budget when it makes a call of its own), the operation's cap on upstream calls, and the metrics
 * told of each refusal.
 */
export function createAdmission(deps: LoaderDeps) {
  let calls = 0;

  /** A field's admission; without a subject, the caller's limit alone (a token Circle cannot know). */
  const admit = (
    operation: TokenOperation,
    {
      subject,
      call,
      flight,
      refusedFields,
    }: {
      /** Counted for this subject too; none for a token Circle cannot know. */
      subject?: string | undefined;
      /** The field makes an upstream call of its own: Circle's budget counts it. */
      call: boolean;
      /** The refresh flight it may lead or join across replicas. */
      flight?: string | undefined;
      /** How many refused fields this admission counts at once. */
      refusedFields?: number;
    },
  ) =>
    deps.rateLimits.admit({
      ...(refusedFields !== undefined ? { refusedFields } : {}),
      operation,
      callerKey: deps.callerKey,
      ...(deps.anonymous ? { anonymous: true } : {}),
      ...(subject !== undefined ? { subjectKey: tokenKey(subject) } : {}),
      call,
      ...(flight && deps.sharedFlights ? { flight: { key: flight, ttlMs: deps.sharedFlights.holdMs } } : {}),
    });

  /** A limit's refusal, told to the metrics once per field. */
  function refused(result: RateLimitedResult): RateLimitedResult {
    if (result.scope) deps.observer?.rateLimited(result.scope);
    return result;
  }

  /** The operation's cap, checked for each field that would make a call of its own. */
  function capped(): RateLimitedResult | undefined {
    if (calls < deps.maxCallsPerOperation) {
      calls += 1;
      return undefined;
    }
    return new RateLimitedResult(
      0,
      `This operation needs more than ${deps.maxCallsPerOperation} calls to Circle; split it into smaller operations.`,
      'operation_cap',
    );
  }

  /** The admission of the first field of a key: the cap, then the limits and the budget. */
  async function first(operation: TokenOperation, subject: string) {
    const cap = capped();
    if (cap) return refused(cap);
    const verdict = await admit(operation, { subject, call: true });
    return verdict instanceof RateLimitedResult ? refused(verdict) : undefined;
  }

  return { admit, refused, capped, first };
}

export type Admission = ReturnType<typeof createAdmission>;
