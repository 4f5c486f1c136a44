import type { IncomingMessage } from 'node:http';
import { requestSlot } from '../domain/request-slot.js';
import type { Caller, RequestLike } from '../domain/types.js';

const callers = requestSlot<Caller>('caller');

/**
 * What the front door already decided about a node:http request it hands to yoga: the caller, or
 * the error its credential got. Yoga's path takes it as it is, so a request is never authenticated
 * twice (nor its JWKS fetched twice).
 */
const decided = new WeakMap<IncomingMessage, Caller | Error>();

/** The front door's verdict on `req`, for yoga's path to take over. */
export function handOverVerdict(req: IncomingMessage, verdict: Caller | Error): void {
  decided.set(req, verdict);
}

/** What the front door decided about `req` before handing it over, if it got that far. */
export function handedOverVerdict(req: IncomingMessage | undefined): Caller | Error | undefined {
  return req && decided.get(req);
}

/** The caller authenticated for a request: what the context factory builds on. */
export function authenticatedCaller(request: RequestLike): Caller | undefined {
  return callers.get(request);
}

/**
 * Records the caller of `request`; in open-access sandbox mode an anonymous caller acts as a
 * backend. Returns the caller recorded.
 */
export function rememberCaller(
  request: RequestLike,
  caller: Caller,
  { openAccess }: { openAccess: boolean },
): Caller {
  const recorded: Caller =
    caller.kind === 'anonymous' && openAccess
      ? { kind: 'backend', name: 'open-sandbox', key: caller.key }
      : caller;
  callers.set(request, recorded);
  return recorded;
}
