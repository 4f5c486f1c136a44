import { requestSlot } from '../domain/request-slot.js';
import type { HeaderReader, RequestLike } from '../domain/types.js';
import type { LifecycleStep } from './lifecycle.js';

/**
 * The session cookie on the wire (DESIGN.md, Sessions): its `Set-Cookie` header, the rules a
 * request that carries it must meet, and the lifecycle step that sets it on whichever door
 * answers. The value is an opaque random id; the attributes never change.
 */

const attributes = 'Path=/; Secure; HttpOnly; SameSite=Strict';

/** `Set-Cookie` for a session: the id, and what is left of the session's life. */
export function sessionCookie(name: string, value: string, maxAgeS: number): string {
  return `${name}=${value}; Max-Age=${maxAgeS}; ${attributes}`;
}

/** `Set-Cookie` that removes the session cookie (same attributes, or the browser keeps it). */
export function clearedSessionCookie(name: string): string {
  return `${name}=; Max-Age=0; ${attributes}`;
}

const pending = requestSlot<string>('set-cookie');

/** The `Set-Cookie` this request's response carries. */
export function setCookieOn(request: RequestLike, header: string): void {
  pending.set(request, header);
}

/** `Set-Cookie` on the response, when a session operation asked for one, on either door. */
export const sessionCookieStep: LifecycleStep = {
  name: 'session cookie',
  headers: (request, set) => {
    const header = pending.get(request);
    if (header !== undefined) set('set-cookie', header);
  },
};

/** The header a cookie request (and `startSession`) must carry: it forces a CORS preflight. */
export const CSRF_HEADER = 'x-circle-csrf';

/** An origin the deployment lists (`CORS_ORIGINS`), decided for this request's `Origin`. */
export function listedOrigin(origin: string | null, listed: readonly string[] | '*'): boolean {
  return origin !== null && listed !== '*' && listed.includes(origin);
}

/**
 * Why a browser request that carries the session cookie (or asks for `startSession`) is refused,
 * or `undefined` when it may go on: it must be a POST of `application/json`, with
 * `x-circle-csrf: 1` and an `Origin` in `CORS_ORIGINS`. SameSite=Strict keeps the cookie from other
 * sites, not from other origins of the same site: these rules are what keep those out.
 */
export function browserRefusal(
  method: string,
  headers: HeaderReader,
  origins: readonly string[] | '*',
): { reason: string; message: string } | undefined {
  if (method !== 'POST')
    return {
      reason: 'method_not_allowed',
      message: 'A request with the session cookie must be a POST.',
    };
  const type = (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    return {
      reason: 'content_type_not_json',
      message: 'A request with the session cookie must be sent as application/json.',
    };
  if (headers.get(CSRF_HEADER) !== '1')
    return {
      reason: 'csrf_header_missing',
      message: `A request with the session cookie must carry the header ${CSRF_HEADER}: 1.`,
    };
  const origin = headers.get('origin');
  if (!listedOrigin(origin, origins))
    return {
      reason: origin === null ? 'origin_missing' : 'origin_not_allowed',
      message: 'A request with the session cookie must come from an origin listed in CORS_ORIGINS.',
    };
  return undefined;
}
