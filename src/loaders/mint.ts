import type { MemberAPIToken } from '../client/responses.js';
import { RateLimitedResult, UpstreamUnavailableResult } from '../domain/outcomes.js';
import type { Admission } from './admission.js';
import type { LoaderDeps } from './index.js';
import { identifier, type MemberKey, memberCacheKey } from './keys.js';
import { FlightAbandoned } from './single-flight.js';
import { decodeOutcome, encodeOutcome } from './wire.js';

/**
 * A request's mints, led or joined. Concurrent identical mints from one caller for one member
 * (a server-rendered page and its API route, three tabs starting sessions, across requests and
 * replicas) make one call at Circle, and every one of them gets its answer: the same pair of
 * tokens. Only while it is in flight: nothing is reused after it settles, and never across callers.
 */
export function createMint(
  deps: LoaderDeps,
  { admit, capped, refused }: Admission,
  upstream: <T>(call: () => Promise<T>) => Promise<T | Error>,
) {
  async function mintOnce(key: MemberKey, subject: string): Promise<MemberAPIToken | Error> {
    // Not hashed in this process (the key holds no token, and a flight lasts one upstream call);
    // across replicas a keyed hash (`shared.key`).
    const name = `mint|${deps.callerKey}|${memberCacheKey(key)}`;
    const running = deps.mintFlights.join(name);
    if (running) {
      const verdict = await admit('issue', { subject, call: false });
      if (verdict instanceof RateLimitedResult) return refused(verdict);
      const outcome = await running;
      if (outcome instanceof FlightAbandoned) return mintOnce(key, subject);
      deps.observer?.upstreamCallSaved('coalesced_mint');
      return outcome;
    }
    const claim = deps.mintFlights.claim(name);
    const cap = capped();
    if (cap) {
      claim.abandon(new FlightAbandoned());
      return refused(cap);
    }
    const shared = deps.sharedFlights;
    const flightKey = shared?.key(name);
    const verdict = await admit('issue', { subject, call: true, flight: flightKey });
    if (verdict instanceof RateLimitedResult) {
      claim.abandon(new FlightAbandoned());
      return refused(verdict);
    }
    if (verdict === 'join' && shared && flightKey) {
      deps.observer?.upstreamCallSaved('coalesced_mint');
      return claim.run(() =>
        shared
          .wait(flightKey)
          .then((text) => decodeOutcome(text) as MemberAPIToken | Error)
          .catch(() => new UpstreamUnavailableResult()),
      );
    }
    const flight = claim.run(() => upstream(() => deps.api.issueMemberToken(identifier(key))));
    if (shared && flightKey) void flight.then((outcome) => shared.publish(flightKey, encodeOutcome(outcome)));
    return flight;
  }
  return mintOnce;
}
