import { hash } from 'node:crypto';

/**
 * Joins concurrent calls with the same key into one: the first claims the key and runs the work,
 * the others `join` its promise until it settles. Nothing is cached after that. Shared across
 * requests, so a key never holds a token: a refresh's is the token's hash (`tokenKey`).
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** The flight with `key`, joined, when there is one. */
  join(key: string): Promise<T> | undefined {
    return this.flights.get(key);
  }

  /**
   * Takes `key` now, before the work is decided (an admission is awaited first), so that calls
   * arriving meanwhile join it. The claim ends with `run` or, when the work is not done, with
   * `abandon(value)`, which the joiners get (and know to start over on).
   */
  claim(key: string): { run(fn: () => Promise<T>): Promise<T>; abandon(value: T): void } {
    let settle!: (value: T | Promise<T>) => void;
    const flight = new Promise<T>((resolve) => {
      settle = resolve;
    }).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    this.flights.set(key, flight);
    return {
      run: (fn) => {
        settle(fn());
        return flight;
      },
      abandon: (value) => settle(value),
    };
  }
}

/** What the followers of a flight that never took off get: they start over on their own. */
export class FlightAbandoned extends Error {
  constructor() {
    super('The flight this call joined was not admitted.');
  }
}

/** A SHA-256 of a token, for use as a map key (one-shot: half the time of a Hash object). */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64url');
}
