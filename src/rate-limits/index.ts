import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitsConfig } from '../config/load.js';
import { RateLimitedResult } from '../domain/outcomes.js';
import type { RateLimitScope } from '../domain/types.js';

/**
 * Rate limits, shared by all requests of this process (rate-limiter-flexible; its Redis limiter
 * has the same interface, for when several replicas must share them):
 * - per caller and per member, counted per resolved token-bearing field, so aliases, batches and
 *   federation representations cannot get around them;
 * - a gateway-wide budget of upstream calls, to stay under Circle's 2000 requests per 5 minutes
 *   per IP instead of collecting its 429s.
 */
export interface RateLimits {
  /** Counts one field for the caller and the subject; a RateLimited result when either is spent. */
  admitField(callerKey: string, subjectKey: string): Promise<RateLimitedResult | undefined>;
  /** Counts one upstream call against the gateway-wide budget. */
  admitUpstream(): Promise<RateLimitedResult | undefined>;
  /** Upstream calls left in the budget's current window; `undefined` when no budget is set. */
  budgetRemaining(): Promise<number | undefined>;
}

async function consume(
  limiter: RateLimiterMemory | undefined,
  key: string,
  scope: RateLimitScope,
  message: (s: number) => string,
) {
  if (!limiter) return undefined;
  try {
    await limiter.consume(key);
    return undefined;
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    return new RateLimitedResult(seconds, message(seconds), scope);
  }
}

export function createRateLimits(config: RateLimitsConfig): RateLimits {
  const perCaller = new RateLimiterMemory({ points: config.perCallerPerMinute, duration: 60 });
  const perMember = new RateLimiterMemory({ points: config.perMemberPerMinute, duration: 60 });
  const budget =
    config.circleBudgetPer5Min > 0
      ? new RateLimiterMemory({ points: config.circleBudgetPer5Min, duration: 300 })
      : undefined;
  return {
    async admitField(callerKey, subjectKey) {
      return (
        (await consume(
          perCaller,
          callerKey,
          'caller',
          (s) => `Too many token requests from this caller; retry after ${s} s.`,
        )) ??
        (await consume(
          perMember,
          subjectKey,
          'member',
          (s) => `Too many token requests for this member; retry after ${s} s.`,
        ))
      );
    },
    admitUpstream() {
      return consume(
        budget,
        'circle',
        'budget',
        (s) => `The gateway's share of Circle's rate limit is spent; retry after ${s} s.`,
      );
    },
    async budgetRemaining() {
      if (!budget) return undefined;
      const used = await budget.get('circle');
      return used ? Math.max(0, used.remainingPoints) : config.circleBudgetPer5Min;
    },
  };
}
