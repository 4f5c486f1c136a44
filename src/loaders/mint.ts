import type { MemberAPIToken } from '../client/responses.js';
import type { Admission } from './admission.js';
import { createFlight } from './flight.js';
import type { LoaderDeps } from './index.js';
import { identifier, type MemberKey, memberCacheKey } from './keys.js';

/**
 * A request's mints, led or joined. Concurrent identical mints from one caller for one member
 * (a server-rendered page and its API route, three tabs starting sessions, across requests and
 * replicas) make one call at Circle, and every one of them gets its answer: the same pair of
 * tokens. Only while it is in flight: nothing is reused after it settles, and never across callers.
 */
export function createMint(
  deps: LoaderDeps,
  admission: Admission,
  upstream: <T>(call: () => Promise<T>) => Promise<T | Error>,
) {
  const fly = createFlight(deps, admission);
  return (key: MemberKey, subject: string): Promise<MemberAPIToken | Error> =>
    fly({
      operation: 'issue',
      flights: deps.mintFlights,
      // Not hashed in this process (it holds no token, and lives one upstream call); across
      // replicas a keyed hash of it.
      key: `mint|${deps.callerKey}|${memberCacheKey(key)}`,
      subject,
      saved: 'coalesced_mint',
      call: () => upstream(() => deps.api.issueMemberToken(identifier(key))),
    });
}
