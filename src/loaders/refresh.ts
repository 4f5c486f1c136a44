import type { RefreshedAccessToken } from '../client/responses.js';
import { InvalidTokenResult, TokenExpiredResult } from '../domain/outcomes.js';
import type { Admission } from './admission.js';
import { createFlight } from './flight.js';
import type { LoaderDeps } from './index.js';
import { tokenKey } from './single-flight.js';

/** A request's refreshes, led or joined (in this process, or across replicas through Redis). */
export function createRefresh(
  deps: LoaderDeps,
  admission: Admission,
  upstream: <T>(call: () => Promise<T>) => Promise<T | Error>,
) {
  const fly = createFlight(deps, admission);
  return (token: string): Promise<RefreshedAccessToken | Error> =>
    fly({
      operation: 'refresh',
      flights: deps.refreshFlights,
      // Hashed: the flights of this process never hold a token, and the replicas' key is a keyed hash of it.
      key: tokenKey(token),
      subject: token,
      saved: 'single_flight',
      call: () =>
        upstream(() => deps.api.refreshAccessToken(token)).then((outcome) => {
          if (outcome instanceof InvalidTokenResult || outcome instanceof TokenExpiredResult)
            deps.unusableTokens?.remember('refresh', token, outcome.code);
          return outcome;
        }),
    });
}
