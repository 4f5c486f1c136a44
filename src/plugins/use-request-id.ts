import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { requestSlot } from '../domain/request-slot.js';
import type { RequestLike } from '../domain/types.js';

const requestIds = requestSlot<string>('request id');
// A caller-supplied id is kept only when it is short and plain, so it is safe to log and echo.
const acceptable = /^[A-Za-z0-9._-]{1,64}$/;

/** The request's id: the caller's `x-request-id` when acceptable, else a new UUID. */
export function requestIdOf(request: RequestLike): string {
  let id = requestIds.get(request);
  if (!id) {
    const offered = request.headers.get('x-request-id');
    id = offered && acceptable.test(offered) ? offered : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** The requests being answered now, by id. */
const inFlight = new Set<{ id: string }>();

/**
 * Gives each request of `handler` (a node:http request listener) its id as it arrives, the caller's
 * acceptable `x-request-id` or a new UUID, written into the request's headers so that every layer
 * after (the hot path, yoga, the logs) reads the same one; and keeps the ids of the requests in
 * flight, for the crash handler: an error that escapes takes every one of them down with the
 * process, and is logged with their ids (`requestsInFlight`).
 *
 * This used to be an AsyncLocalStorage scope naming the one request whose work threw. On Node 20
 * that puts a hook on every promise: 9 % of an operation's CPU (bench:ab), for one log field.
 */
export function assignRequestIds<A extends [IncomingMessage, ServerResponse]>(
  handler: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    const [req, res] = args;
    const offered = req.headers['x-request-id'];
    const id = typeof offered === 'string' && acceptable.test(offered) ? offered : randomUUID();
    req.headers['x-request-id'] = id;
    const entry = { id };
    inFlight.add(entry);
    res.once('close', () => inFlight.delete(entry));
    handler(...args);
  };
}

/** The ids of the requests being answered now. */
export function requestsInFlight(): string[] {
  return [...inFlight].map((entry) => entry.id);
}

/** Echoes the request id on every response, so a client can quote it and an operator can find the log lines. */
export function useRequestId(): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
