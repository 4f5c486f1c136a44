import { RateLimitedResult, UpstreamUnavailableResult } from '../domain/outcomes.js';
import type { SavedCallReason, TokenOperation } from '../domain/types.js';
import type { Admission } from './admission.js';
import type { LoaderDeps } from './index.js';
import { FlightAbandoned, type SingleFlight } from './single-flight.js';
import { decodeOutcome, encodeOutcome } from './wire.js';

/** One kind of flight: where it is joined in this process, and how its leader calls Circle. */
export interface FlightSpec<T> {
  operation: Extract<TokenOperation, 'issue' | 'refresh'>;
  /** The flights of this process, shared by all requests. */
  flights: SingleFlight<T | Error>;
  /** Its key in `flights`, and the name a keyed hash is made of across replicas. */
  key: string;
  /** The subject the member limit counts (the identifier, or the token). */
  subject: string;
  /** What a field that joins instead of calling counts as (metrics). */
  saved: Extract<SavedCallReason, 'single_flight' | 'coalesced_mint'>;
  /** The leader's upstream call. */
  call(): Promise<T | Error>;
}

/**
 * Flights of identical upstream calls, led or joined: joins one in this process (claimed at once,
 * before its admission, so that concurrent requests see it), else joins one another replica leads
 * (Redis), else leads: only the leader spends budget and calls Circle, and publishes its outcome to
 * the other replicas' followers. A follower whose leader was refused starts over, as a leader.
 * Refreshes (by token) and mints (by caller and member) fly so.
 */
export function createFlight(deps: LoaderDeps, { admit, capped, refused }: Admission) {
  return async function fly<T>(spec: FlightSpec<T>): Promise<T | Error> {
    const running = spec.flights.join(spec.key);
    if (running) {
      deps.observer?.upstreamCallSaved(spec.saved);
      const verdict = await admit(spec.operation, { subject: spec.subject, call: false });
      if (verdict instanceof RateLimitedResult) return refused(verdict);
      const outcome = await running;
      return outcome instanceof FlightAbandoned ? fly(spec) : outcome;
    }
    const claim = spec.flights.claim(spec.key);
    const cap = capped();
    if (cap) {
      claim.abandon(new FlightAbandoned());
      return refused(cap);
    }
    const shared = deps.sharedFlights;
    const flightKey = shared?.key(spec.key);
    const verdict = await admit(spec.operation, { subject: spec.subject, call: true, flight: flightKey });
    if (verdict instanceof RateLimitedResult) {
      claim.abandon(new FlightAbandoned());
      return refused(verdict);
    }
    if (verdict === 'join' && shared && flightKey) {
      deps.observer?.upstreamCallSaved(spec.saved);
      return claim.run(() =>
        shared
          .wait(flightKey)
          .then((text) => decodeOutcome(text) as T | Error)
          .catch(() => new UpstreamUnavailableResult()),
      );
    }
    const flight = claim.run(spec.call);
    if (shared && flightKey)
      void flight.then((outcome) => shared.publish(flightKey, encodeOutcome(outcome as never)));
    return flight;
  };
}
