import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';

export interface Drain {
  /**
   * Stops accepting connections and waits up to `deadlineMs` for the responses in flight; then
   * closes whatever is left. Resolves true when everything finished in time. Idempotent: a second
   * call (a repeated signal) returns the first call's promise.
   */
  drain(deadlineMs: number): Promise<boolean>;
  /** True once `drain` has been called. */
  readonly draining: boolean;
}

export interface DrainOptions {
  /** How long idle keep-alive connections stay open after the drain begins. Default 500 ms. */
  lingerMs?: number;
  /** How often connections that turned idle are closed after that. Default 100 ms. */
  sweepMs?: number;
}

/**
 * Graceful shutdown for a node:http server. Call it before the server accepts its first request.
 *
 * - New connections are refused at once; the open ones are kept.
 * - Every response still to be sent, and every response written during the drain, carries
 *   `Connection: close`, so the client does not reuse a connection that is about to go away.
 * - Idle keep-alive connections stay open for `lingerMs`: a request a client wrote just as the drain
 *   began gets an answer (with `Connection: close`), not a reset. Then idle connections are closed,
 *   and busy ones as their last response is sent, rather than at the keep-alive timeout.
 * - Past the deadline, the remaining connections are closed.
 */
export function trackForDrain(server: Server, options: DrainOptions = {}): Drain {
  const lingerMs = options.lingerMs ?? 500;
  const sweepMs = options.sweepMs ?? 100;
  const pending = new Set<ServerResponse>();
  let drained: Promise<boolean> | undefined;

  // First among the request listeners, so the header is set before the handler can answer (a
  // handler that answers synchronously would make a later setHeader throw).
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (drained && !res.headersSent) res.setHeader('connection', 'close');
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });

  async function drain(deadlineMs: number): Promise<boolean> {
    for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
    // http.Server#close also closes idle connections at once (Node 19 and later), which resets a
    // request already on its way on one: stop listening through net.Server's close instead, which
    // leaves open connections alone and calls back once the last one has ended.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    let sweeper: NodeJS.Timeout | undefined;
    const linger = setTimeout(
      () => {
        server.closeIdleConnections();
        sweeper = setInterval(() => server.closeIdleConnections(), sweepMs);
      },
      Math.min(lingerMs, deadlineMs),
    );
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      closed.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(resolve, deadlineMs, false);
      }),
    ]);
    clearTimeout(timer);
    clearTimeout(linger);
    clearInterval(sweeper);
    if (!inTime) server.closeAllConnections();
    return inTime;
  }

  return {
    drain(deadlineMs) {
      drained ??= drain(deadlineMs);
      return drained;
    },
    get draining() {
      return drained !== undefined;
    },
  };
}
