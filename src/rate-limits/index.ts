import type { RateLimitsConfig } from '../config/load.js';
import { RateLimitedResult } from '../domain/outcomes.js';
import type { RateLimitScope, SharingState, TokenOperation } from '../domain/types.js';
import { type Admission, type Counter, type CounterStore, MemoryStore, type Verdict } from './store.js';

export { type Admission, type Counter, type CounterStore, MemoryStore, type Verdict } from './store.js';

/**
 * The rate limits, counted per resolved token-bearing field so that aliases, batches and
 * federation representations cannot get around them:
 * - per caller and per member (or per refresh/access token, hashed), each per minute;
 * - Circle's budget of upstream calls per 5 minutes, to stay under its 2000 requests per IP
 *   instead of collecting its 429s. Only a field that makes its own upstream call spends it: a
 *   repeat in the same request, or a refresh that joins another's flight, does not.
 *
 * Budget priority: a revocation by an authenticated caller is a security action, counted (Circle
 * counts it) but never refused; new mints stop when 90 % of the window's budget is spent, leaving
 * the rest to refreshes, which keep signed-in members signed in.
 *
 * Anonymous callers (no credential: they can only refresh and revoke tokens they hold) spend a
 * capped share of the budget, in a bucket of their own counted on top of the whole: once the share
 * is spent, their fields are refused, revocations included, so that strangers can never spend
 * what authenticated callers need. Their per-caller limit is lower too.
 *
 * One field is one `admit` of the store (one round trip to Redis, a Lua script), all or nothing.
 * With a shared store (Redis), every replica counts in it; while it is unreachable, this replica
 * falls back to insurance limits in its own memory, each limit divided by the replicas last seen
 * sharing it, so that together they still stay under the budget. The insurance counters also
 * count what this replica did while Redis was up, so an outage does not hand out a fresh budget.
 */
export interface RateLimits {
  admit(field: FieldAdmission): Promise<RateLimitedResult | 'lead' | 'join'>;
  /** Upstream calls left in the budget's current window; `undefined` when no budget is set. */
  budgetRemaining(): Promise<number | undefined>;
  /** Where the counts are kept now: this process only, shared, or per-replica insurance during an outage. */
  sharing(): SharingState;
}

export interface FieldAdmission {
  operation: TokenOperation;
  /**
   * The caller's key and the hashed subject (member, or refresh/access token) the field is about;
   * without a subject (a token Circle cannot know), the caller's limit alone.
   */
  callerKey: string;
  subjectKey?: string;
  /** Whether the field makes an upstream call of its own, and so spends budget. */
  call: boolean;
  /** The caller has no credential: its own per-caller limit and the anonymous share of the budget apply. */
  anonymous?: boolean;
  /**
   * Fields the schema already refused (authorization), `count` of them: counted against the caller
   * in one admission (one Redis round trip), whatever room is left, and never refused.
   */
  refusedFields?: number;
  /** A refresh flight key (a keyed hash of the token) other replicas may share. */
  flight?: { key: string; ttlMs: number };
  /**
   * The gateway's own call, for no caller (a session's revocations as it ends, the sweep's
   * included): counted in Circle's budget alone.
   */
  maintenance?: boolean;
}

/** A store that several replicas share, and that may be unreachable. */
export interface SharedCounterStore extends CounterStore {
  /** Whether it answers now; while it does not, the limits fall back to the insurance counters. */
  available(): boolean;
  /** Replicas sharing it as last seen there, never fewer than configured: the insurance divisor. */
  replicas(): number;
}

/** The part of the budget new mints leave to refreshes (and revocations). */
export const REFRESH_RESERVE = 0.1;

const MINUTE = 60_000;
const BUDGET_WINDOW = 5 * MINUTE;

const messages: Record<Exclude<RateLimitScope, 'operation_cap'>, (s: number) => string> = {
  caller: (s) => `Too many token requests from this caller; retry after ${s} s.`,
  member: (s) => `Too many token requests for this member; retry after ${s} s.`,
  budget: (s) => `The gateway's share of Circle's rate limit is spent; retry after ${s} s.`,
  anonymous_budget: (s) =>
    `The share of Circle's rate limit for callers without credentials is spent; retry after ${s} s, or authenticate.`,
};

/** What anonymous callers together may spend of a budget of `budget` calls, at `percent` %. */
export function anonymousShare(budget: number, percent: number): number {
  return Math.floor((budget * percent) / 100);
}

/** The budget a field of `operation` may use up to: revocations are never refused, mints stop first. */
export function budgetLimit(operation: TokenOperation, budget: number): number {
  if (operation === 'revoke_refresh' || operation === 'revoke_access') return Number.POSITIVE_INFINITY;
  if (operation === 'issue') return budget - Math.floor(budget * REFRESH_RESERVE);
  return budget;
}

/**
 * One replica's share of a limit while the shared store is out: never more than the whole over
 * `replicas` (at least one), and nothing of a limit of nothing (ANONYMOUS_BUDGET_PERCENT=0).
 */
function insuranceShare(counter: Counter, replicas: number): Counter {
  if (counter.limit === Number.POSITIVE_INFINITY || counter.limit === 0 || replicas <= 1) return counter;
  return { ...counter, limit: Math.max(1, Math.floor(counter.limit / replicas)) };
}

function refusal(verdict: Extract<Verdict, { refused: unknown }>): RateLimitedResult {
  const scope = verdict.refused as Exclude<RateLimitScope, 'operation_cap'>;
  const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
  return new RateLimitedResult(seconds, messages[scope](seconds), scope);
}

export function createRateLimits(config: RateLimitsConfig, shared?: SharedCounterStore): RateLimits {
  const insurance = new MemoryStore();
  const budget = config.circleBudgetPer5Min;

  function admissionOf(field: FieldAdmission): Admission {
    return {
      counters: field.maintenance
        ? []
        : [
            {
              scope: 'caller',
              key: `caller:${field.callerKey}`,
              limit:
                field.refusedFields !== undefined
                  ? Number.POSITIVE_INFINITY
                  : field.anonymous
                    ? config.perAnonymousCallerPerMinute
                    : config.perCallerPerMinute,
              windowMs: MINUTE,
            },
            ...(field.subjectKey !== undefined
              ? [
                  {
                    scope: 'member',
                    key: `member:${field.subjectKey}`,
                    limit: config.perMemberPerMinute,
                    windowMs: MINUTE,
                  } satisfies Counter,
                ]
              : []),
          ],
      ...(field.call && budget > 0
        ? {
            budgets: [
              {
                scope: 'budget',
                key: 'budget',
                limit: budgetLimit(field.operation, budget),
                windowMs: BUDGET_WINDOW,
              },
              ...(field.anonymous
                ? [
                    {
                      scope: 'anonymous_budget',
                      key: 'budget:anonymous',
                      limit: anonymousShare(budget, config.anonymousBudgetPercent),
                      windowMs: BUDGET_WINDOW,
                    } satisfies Counter,
                  ]
                : []),
            ],
          }
        : {}),
      ...(field.call && field.flight ? { flight: field.flight } : {}),
      ...(field.refusedFields !== undefined ? { weight: field.refusedFields } : {}),
    } satisfies Admission;
  }

  function insured(admission: Admission): Verdict {
    const replicas = shared?.replicas() ?? 1;
    return insurance.admitNow({
      ...(admission.weight !== undefined ? { weight: admission.weight } : {}),
      counters: admission.counters.map((counter) => insuranceShare(counter, replicas)),
      ...(admission.budgets
        ? { budgets: admission.budgets.map((counter) => insuranceShare(counter, replicas)) }
        : {}),
    });
  }

  return {
    async admit(field) {
      const admission = admissionOf(field);
      let verdict: Verdict | undefined;
      if (shared?.available()) {
        // A failing store marks itself unavailable; this field, and the next, use the insurance.
        verdict = await shared.admit(admission).catch(() => undefined);
        if (verdict) insurance.record(admission, verdict);
      }
      verdict ??= insured(admission);
      return 'refused' in verdict ? refusal(verdict) : verdict.admitted;
    },
    async budgetRemaining() {
      if (budget === 0) return undefined;
      if (shared?.available()) {
        const used = await shared.used('budget').catch(() => undefined);
        if (used !== undefined) return Math.max(0, budget - used);
      }
      const share = shared ? Math.floor(budget / shared.replicas()) : budget;
      return Math.max(0, share - (await insurance.used('budget')));
    },
    sharing: () => (!shared ? 'memory' : shared.available() ? 'shared' : 'insurance'),
  };
}
