import { GraphQLError } from 'graphql';
import type { MemberLookup } from '../domain/types.js';
import type { MemberAPIToken } from '../loaders/index.js';
import { builder, type Context } from './builder.js';
import { MemberTokenType, memberTokenErrors, notAuthorized } from './member-token.js';

/**
 * The federation entity: any subgraph that knows a user's Circle member id, email or SSO id returns
 * a CircleMember reference, and the router fetches the token here. References go through the same
 * loaders (k distinct keys in N representations: k upstream calls), authorization and limits as
 * `memberToken`.
 */
interface CircleMemberRef {
  communityMemberId?: string;
  email?: string;
  ssoId?: string;
  /** The token, once asked for: one admission and one load per reference. */
  token?: Promise<MemberAPIToken>;
}

/**
 * A representation's key fields as strings: a router sends them as such, but any caller can send
 * `_entities` a number or an object, which must be told, not crash the lookup.
 */
function checkedReference(ref: Record<string, unknown>): CircleMemberRef {
  const checked: CircleMemberRef = {};
  for (const key of ['communityMemberId', 'email', 'ssoId'] as const) {
    const value = ref[key];
    if (value === undefined || value === null) continue;
    if (key === 'communityMemberId' && typeof value === 'number' && Number.isSafeInteger(value)) {
      checked[key] = String(value);
    } else if (typeof value === 'string') {
      checked[key] = value;
    } else {
      throw new GraphQLError(`CircleMember representation: ${key} must be a string.`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  }
  return checked;
}

/** Which identifier to look the member up by, in Circle's own priority: SSO id, member id, email. */
function lookupOf(ref: CircleMemberRef): { by: MemberLookup; value: string } {
  if (ref.ssoId) return { by: 'SSO', value: ref.ssoId };
  if (ref.communityMemberId) return { by: 'ID', value: ref.communityMemberId };
  return { by: 'EMAIL', value: ref.email ?? '' };
}

function tokenOf(ref: CircleMemberRef, context: Context): Promise<MemberAPIToken> {
  const { by, value } = lookupOf(ref);
  ref.token ??= context.loaders.memberToken(by, value);
  return ref.token;
}

const CircleMemberType = builder.objectRef<CircleMemberRef>('CircleMember').implement({
  description:
    'A Circle community member, as other subgraphs refer to it. Resolve `token` to get their tokens.',
  fields: (t) => ({
    communityMemberId: t.id({
      nullable: true,
      description:
        "Circle community member id: from the reference, else from Circle's answer when `token` is selected too, else null.",
      resolve: async (ref) => {
        if (ref.communityMemberId) return ref.communityMemberId;
        // Sibling fields are started in one synchronous pass, so after one tick `token`, when
        // selected, has begun loading; never start a load (and mint a token) just for this field.
        await Promise.resolve();
        const token = await ref.token?.catch(() => undefined);
        return token ? String(token.community_member_id) : null;
      },
    }),
    email: t.string({
      nullable: true,
      description: 'Email address, when the reference carried it.',
      resolve: (ref) => ref.email ?? null,
    }),
    ssoId: t.string({
      nullable: true,
      description: 'SSO user id, when the reference carried it.',
      resolve: (ref) => ref.ssoId ?? null,
    }),
    token: t.field({
      type: MemberTokenType,
      description: "The member's access and refresh token (Circle auth_token), or why not.",
      authScopes: (ref) => ({ tokensFor: lookupOf(ref) }),
      unauthorizedError: (ref, _args, context) => notAuthorized(context, lookupOf(ref)),
      errors: {
        types: memberTokenErrors,
        union: { name: 'CircleMemberTokenResult', description: 'A member token, or why not.' },
      },
      resolve: (ref, _args, context) => tokenOf(ref, context),
    }),
  }),
});

builder.asEntity(CircleMemberType, {
  key: [
    builder.selection<{ communityMemberId: string }>('communityMemberId'),
    builder.selection<{ email: string }>('email'),
    builder.selection<{ ssoId: string }>('ssoId'),
  ],
  resolveReference: (ref) => checkedReference(ref),
});
