import type { Server, ServerResponse } from 'node:http';

export interface Drain {
  /**
   * Stops accepting connections and waits up to `deadlineMs` for the responses in flight; then
   * closes whatever is left. Resolves true when everything finished in time. Idempotent: a second
   * call returns the first call's promise.
   */
  drain(deadlineMs: number): Promise<boolean>;
  /** True once `drain` has been called. */
  readonly draining: boolean;
}

/**
 * Graceful shutdown for a node:http server. Call it before the server accepts its first request.
 *
 * - Responses still to be sent when the drain begins, and every response written after, carry
 *   `Connection: close`, so a client does not reuse a connection that is about to go away.
 * - Idle keep-alive connections are closed at once, and busy ones as their last response is sent
 *   (a sweep every `sweepMs`), rather than waiting for the keep-alive timeout.
 * - Past the deadline, the remaining connections are closed.
 */
export function trackForDrain(server: Server, sweepMs = 100): Drain {
  const pending = new Set<ServerResponse>();
  let drained: Promise<boolean> | undefined;

  server.on('request', (_req, res: ServerResponse) => {
    if (drained) res.setHeader('connection', 'close');
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });

  async function drain(deadlineMs: number): Promise<boolean> {
    for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const sweeper = setInterval(() => server.closeIdleConnections(), sweepMs);
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      closed.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(resolve, deadlineMs, false);
      }),
    ]);
    clearTimeout(timer);
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
