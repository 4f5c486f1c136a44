import type { RateLimitScope } from '../domain/types.js';

/**
 * Fixed-window counters, the state behind the rate limits: in process memory (one replica, the
 * default) or in Redis (replicas share it; redis/store.ts). Both implement one operation, `admit`,
 * all or nothing, so that the limits mean the same whichever holds them.
 */

/** One counter: at most `limit` uses per window of `windowMs` from its first use. */
export interface Counter {
  scope: RateLimitScope;
  /** A logical key (`caller:…`, `member:…`, `budget`); a shared store hashes it before use. */
  key: string;
  /** `Infinity`: counted, never refused. */
  limit: number;
  windowMs: number;
}

export interface Admission {
  /** Each must have room; then each is counted. When one refuses, nothing is counted. */
  counters: Counter[];
  /**
   * Circle's budget, and the anonymous callers' share of it when the caller is anonymous: checked
   * and counted only when this field leads (makes its own call).
   */
  budgets?: Counter[];
  /**
   * How many uses this admission counts in each counter (default 1): the refused fields of one
   * request are counted in one admission, not one round trip each. Each counter must have room for
   * all of them.
   */
  weight?: number;
  /**
   * A refresh flight other replicas may be running (a keyed hash of the refresh token): when one
   * is, this field joins it (no budget), else it leads and holds the flight for `ttlMs`.
   */
  flight?: { key: string; ttlMs: number };
}

export type Verdict = { refused: RateLimitScope; retryAfterMs: number } | { admitted: 'lead' | 'join' };

export interface CounterStore {
  admit(admission: Admission): Promise<Verdict>;
  /** Uses of the counter `key` in its current window (0 when it has none). */
  used(key: string): Promise<number>;
}

interface Window {
  used: number;
  resetsAt: number;
}

/**
 * Counters in this process: the embedded default, and the per-replica insurance while a shared
 * store is unreachable. A flight is never joined here (joining in one process is the loaders'
 * SingleFlight). Expired windows are swept at most every `sweepMs`, so memory follows the rate of
 * distinct keys, not their total.
 */
export class MemoryStore implements CounterStore {
  private readonly windows = new Map<string, Window>();
  private sweptAt: number;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sweepMs = 30_000,
  ) {
    this.sweptAt = now();
  }

  admit(admission: Admission): Promise<Verdict> {
    return Promise.resolve(this.admitNow(admission));
  }

  used(key: string): Promise<number> {
    return Promise.resolve(this.current(key, this.now())?.used ?? 0);
  }

  /** `admit`, synchronously. */
  admitNow(admission: Admission): Verdict {
    const now = this.now();
    this.sweep(now);
    const counters = admission.budgets ? [...admission.counters, ...admission.budgets] : admission.counters;
    const weight = admission.weight ?? 1;
    for (const counter of counters) {
      const window = this.current(counter.key, now);
      if (window && window.used + weight > counter.limit) {
        return { refused: counter.scope, retryAfterMs: window.resetsAt - now };
      }
      if (!window && weight > counter.limit)
        return { refused: counter.scope, retryAfterMs: counter.windowMs };
    }
    for (const counter of counters) this.count(counter, now, weight);
    return { admitted: 'lead' };
  }

  /** Counts what a shared store admitted, without checking: this replica's share, for the insurance limits. */
  record(admission: Admission, verdict: Verdict): void {
    if ('refused' in verdict) return;
    const now = this.now();
    this.sweep(now);
    const weight = admission.weight ?? 1;
    for (const counter of admission.counters) this.count(counter, now, weight);
    if (admission.budgets && verdict.admitted === 'lead')
      for (const budget of admission.budgets) this.count(budget, now, weight);
  }

  private current(key: string, now: number): Window | undefined {
    const window = this.windows.get(key);
    return window && window.resetsAt > now ? window : undefined;
  }

  private count(counter: Counter, now: number, weight: number): void {
    const window = this.current(counter.key, now);
    if (window) window.used += weight;
    else this.windows.set(counter.key, { used: weight, resetsAt: now + counter.windowMs });
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < this.sweepMs) return;
    this.sweptAt = now;
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }
}
