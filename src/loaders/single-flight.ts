import { createHash } from 'node:crypto';

/**
 * Joins concurrent calls with the same key into one: the first caller runs `fn`, the others get
 * its promise until it settles. Nothing is cached after that. Shared across requests, so keys are
 * hashes (`tokenKey`): the map never holds a token, and different tokens never share a flight.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** `onJoin` is told each time a call joins a flight instead of making its own (metrics). */
  constructor(private readonly onJoin?: () => void) {}

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.flights.get(key);
    if (existing) {
      this.onJoin?.();
      return existing;
    }
    const flight = fn().finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }
}

/** A SHA-256 of a token, for use as a map key. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
