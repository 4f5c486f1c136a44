import type { Caller, MemberLookup } from '../domain/types.js';

/**
 * Whether a caller may get tokens for the member identified by `by` and `value`: a trusted backend
 * for anyone; a member only for itself, by the identity its JWT proves (verified email, SSO id,
 * Circle member id). A member JWT without the matching claim proves nothing for that lookup.
 */
export function mayGetTokensFor(caller: Caller, by: MemberLookup, value: string): boolean {
  switch (caller.kind) {
    case 'backend':
      return true;
    case 'member':
      if (by === 'EMAIL')
        return caller.email !== undefined && caller.email.toLowerCase() === value.toLowerCase();
      if (by === 'SSO') return caller.ssoId !== undefined && caller.ssoId === value;
      return caller.memberId !== undefined && String(caller.memberId) === value;
    default:
      return false;
  }
}
