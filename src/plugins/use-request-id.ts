import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { requestSlot } from '../domain/request-slot.js';
import type { RequestLike } from '../domain/types.js';

const requestIds = requestSlot<string>('request id');
// A caller-supplied id is kept only when it is short and plain, so it is safe to log and echo.
const acceptable = /^[A-Za-z0-9._-]{1,64}$/;

/** The request id of the request being handled, for code that runs outside it (crash logging). */
const scope = new AsyncLocalStorage<{ requestId?: string }>();

/** The request's id: the caller's `x-request-id` when acceptable, else a new UUID. */
export function requestIdOf(request: RequestLike): string {
  let id = requestIds.get(request);
  if (!id) {
    const offered = request.headers.get('x-request-id');
    id = offered && acceptable.test(offered) ? offered : randomUUID();
    requestIds.set(request, id);
    const store = scope.getStore();
    if (store) store.requestId = id;
  }
  return id;
}

/**
 * Runs each call of `handler` (a node:http request listener) in a scope of its own, so that an
 * error escaping the request (an uncaught exception, an unhandled rejection) can be logged with
 * the request's id: see `currentRequestId`.
 */
export function inRequestScope<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
  return (...args) => scope.run({}, () => handler(...args));
}

/** The id of the request whose work is running now, when it has one. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/** Echoes the request id on every response, so a client can quote it and an operator can find the log lines. */
export function useRequestId(): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
