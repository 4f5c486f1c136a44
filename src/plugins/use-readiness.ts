import { type Plugin, useReadinessCheck } from 'graphql-yoga';
import type { Upstream } from '../client/upstream.js';

/**
 * `/ready`: 200 when Circle is reachable and accepts the app token (a probe that mints nothing),
 * 503 otherwise or while the circuit breaker is open. The answer is cached for `cacheMs` so a
 * load balancer polling every second costs Circle at most one call per window.
 */
export function useReadiness(client: Upstream, cacheMs = 10_000): Plugin {
  let last: { at: number; ready: Promise<boolean> } | undefined;
  return useReadinessCheck({
    endpoint: '/ready',
    check: async () => {
      if (client.breakerState() === 'open') return false;
      if (!last || Date.now() - last.at > cacheMs) {
        last = {
          at: Date.now(),
          ready: client.api.probe().then(
            () => true,
            () => false,
          ),
        };
      }
      return last.ready;
    },
  });
}
