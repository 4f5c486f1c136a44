/**
 * A value kept per request on the request object itself, under a symbol of its own: what the
 * request id, the caller, the trace span, the access-log record and the GraphQL metrics record use.
 *
 * Not a WeakMap keyed by the request: V8's scavenger keeps alive the entries of a WeakMap that lives
 * in the old generation, so every request's objects (the request, and all that its records reach)
 * were promoted and left for full collections: the old generation grew by ~45 MiB/s under load and
 * RSS roughly doubled (bench/README.md). A property dies with the request.
 */
export interface RequestSlot<T> {
  get(request: object): T | undefined;
  set(request: object, value: T): void;
}

export function requestSlot<T>(description: string): RequestSlot<T> {
  const key = Symbol(description);
  return {
    get: (request) => (request as { [key]?: T })[key],
    set: (request, value) => {
      (request as { [key]?: T })[key] = value;
    },
  };
}
