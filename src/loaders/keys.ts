import type { MemberIdentifier } from '../client/endpoints.js';
import type { MemberLookup } from '../domain/types.js';

/** A member lookup as the member-token loader keys it. */
export interface MemberKey {
  by: MemberLookup;
  value: string;
}

/** The loader's cache key of a member lookup (DataLoader's `cacheKeyFn`): one upstream call per distinct key in a request. */
export function memberCacheKey({ by, value }: MemberKey): string {
  return `${by}:${value}`;
}

/** A member as the limits and the audit trail count it: emails differing only in case are one member. */
export function subjectKey({ by, value }: MemberKey): string {
  return memberCacheKey({ by, value: by === 'EMAIL' ? value.toLowerCase() : value });
}

/** What the client asks Circle for. */
export function identifier({ by, value }: MemberKey): MemberIdentifier {
  if (by === 'ID') return { communityMemberId: Number(value) };
  if (by === 'EMAIL') return { email: value };
  return { ssoId: value };
}
