import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestSlot } from '../domain/request-slot.js';
import type { RequestLike } from '../domain/types.js';

const requestIds = requestSlot<string>('request id');
// A caller-supplied id is kept only when it is short and plain, so it is safe to log.
const acceptable = /^[A-Za-z0-9._-]{1,64}$/;
/**
 * Where `assignRequestIds` puts the gateway's own id, for every layer after it (the front door,
 * yoga's Fetch request) to read; whatever a caller sent under this name is replaced.
 */
const ownIdHeader = 'x-circle-gateway-request-id';

/**
 * The request's id: always the gateway's own (a UUID), never the caller's, so that what the logs
 * and the audit trail call a request is what the gateway named it. It is echoed as `x-request-id`.
 */
export function requestIdOf(request: RequestLike): string {
  let id = requestIds.get(request);
  if (!id) {
    id = request.headers.get(ownIdHeader) ?? randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** The caller's own `x-request-id`, when acceptable: recorded apart, for correlation, never as the gateway's. */
export function callerRequestIdOf(request: RequestLike): string | undefined {
  const offered = request.headers.get('x-request-id');
  return offered !== null && acceptable.test(offered) ? offered : undefined;
}

/** The requests being answered now: the gateway's id, and the caller's when it sent one. */
const inFlight = new Set<{ id: string; caller?: string }>();

/**
 * Gives each request of `handler` (a node:http request listener) the gateway's own id as it
 * arrives, written into the request's headers so that every layer after (the front door, yoga, the
 * logs) reads the same one; and keeps the ids of the requests in flight, for the crash handler: an
 * error that escapes takes every one of them down with the process, and is logged with their ids
 * (`requestsInFlight`).
 *
 * This used to be an AsyncLocalStorage scope naming the one request whose work threw. On Node 20
 * that puts a hook on every promise: 9 % of an operation's CPU (bench:ab), for one log field.
 */
export function assignRequestIds<A extends [IncomingMessage, ServerResponse]>(
  handler: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    const [req, res] = args;
    const id = randomUUID();
    req.headers[ownIdHeader] = id;
    const offered = req.headers['x-request-id'];
    const entry = typeof offered === 'string' && acceptable.test(offered) ? { id, caller: offered } : { id };
    inFlight.add(entry);
    res.once('close', () => inFlight.delete(entry));
    handler(...args);
  };
}

/** The ids of the requests being answered now, and the callers' ids of those that sent one. */
export function requestsInFlight(): { requestIds: string[]; callerRequestIds: string[] } {
  const entries = [...inFlight];
  return {
    requestIds: entries.map((entry) => entry.id),
    callerRequestIds: entries.flatMap((entry) => (entry.caller ? [entry.caller] : [])),
  };
}
