import type { RefreshedAccessToken } from '../client/responses.js';
import {
  InvalidTokenResult,
  RateLimitedResult,
  TokenExpiredResult,
  UpstreamUnavailableResult,
} from '../domain/outcomes.js';
import type { Admission } from './admission.js';
import type { LoaderDeps } from './index.js';
import { FlightAbandoned, tokenKey } from './single-flight.js';
import { decodeOutcome, encodeOutcome } from './wire.js';

/** A request's refreshes, led or joined (in this process, or across replicas through Redis). */
export function createRefresh(
  deps: LoaderDeps,
  { admit, capped, refused }: Admission,
  upstream: <T>(call: () => Promise<T>) => Promise<T | Error>,
) {
  /**
   * A refresh: joins a flight of the same token in this process (claimed at once, before its
   * admission, so concurrent requests see it), else joins one another replica leads (Redis), else
   * leads: only the leader spends budget and calls Circle. A follower whose leader was refused
   * starts over, as a leader.
   */
  async function refreshOnce(token: string): Promise<RefreshedAccessToken | Error> {
    const key = tokenKey(token);
    const running = deps.refreshFlights.join(key);
    if (running) {
      const verdict = await admit('refresh', { subject: token, call: false });
      if (verdict instanceof RateLimitedResult) return refused(verdict);
      const outcome = await running;
      return outcome instanceof FlightAbandoned ? refreshOnce(token) : outcome;
    }
    const claim = deps.refreshFlights.claim(key);
    const cap = capped();
    if (cap) {
      claim.abandon(new FlightAbandoned());
      return refused(cap);
    }
    const shared = deps.sharedFlights;
    const flightKey = shared?.key(token);
    const verdict = await admit('refresh', { subject: token, call: true, flight: flightKey });
    if (verdict instanceof RateLimitedResult) {
      claim.abandon(new FlightAbandoned());
      return refused(verdict);
    }
    if (verdict === 'join' && shared && flightKey) {
      deps.observer?.upstreamCallSaved('single_flight');
      return claim.run(() =>
        shared
          .wait(flightKey)
          .then(decodeOutcome)
          .catch(() => new UpstreamUnavailableResult()),
      );
    }
    const flight = claim.run(() =>
      upstream(() => deps.api.refreshAccessToken(token)).then((outcome) => {
        if (outcome instanceof InvalidTokenResult || outcome instanceof TokenExpiredResult)
          deps.unusableTokens?.remember('refresh', token, outcome.code);
        return outcome;
      }),
    );
    if (shared && flightKey) void flight.then((outcome) => shared.publish(flightKey, encodeOutcome(outcome)));
    return flight;
  }
  return refreshOnce;
}
