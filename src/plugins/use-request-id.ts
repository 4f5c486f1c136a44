import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

const requestIds = new WeakMap<Request, string>();
// A caller-supplied id is kept only when it is short and plain, so it is safe to log and echo.
const acceptable = /^[A-Za-z0-9._-]{1,64}$/;

/** The request's id: the caller's `x-request-id` when acceptable, else a new UUID. */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const offered = request.headers.get('x-request-id');
    id = offered && acceptable.test(offered) ? offered : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** Echoes the request id on every response, so a client can quote it and an operator can find the log lines. */
export function useRequestId(): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
