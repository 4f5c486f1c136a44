import { unauthenticated } from '../auth/callers.js';
import { mayGetTokensFor } from '../auth/rules.js';
import { ForbiddenResult, InvalidInputResult, MemberNotFoundResult } from '../domain/outcomes.js';
import type { MemberLookup } from '../domain/types.js';
import type { MemberAPIToken } from '../loaders/index.js';
import { builder, type Context } from './builder.js';
import { memberLookupArgs } from './validation.js';

export const MemberLookupEnum = builder.enumType('MemberLookup', {
  description: 'Which identifier `value` is.',
  // Typed by the one declaration (domain/types.ts): a lookup added there must be described here.
  values: {
    ID: { description: 'Circle community member id (a positive integer, as a string).' },
    EMAIL: { description: "The member's email address." },
    SSO: { description: "The member's SSO user id (Circle's sso_user_id)." },
  } satisfies Record<MemberLookup, { description: string }>,
});

export const MemberTokenType = builder.objectRef<MemberAPIToken>('MemberToken').implement({
  description: "A member's Circle access token and refresh token (Circle's auth_token).",
  fields: (t) => ({
    accessToken: t.exposeString('access_token', {
      description: 'JWT for the Circle member API; about one hour of life.',
    }),
    accessTokenExpiresAt: t.field({
      type: 'DateTime',
      description: 'When the access token expires.',
      resolve: (token) => token.access_token_expires_at,
    }),
    refreshToken: t.exposeString('refresh_token', {
      description: 'Opaque token for `refreshToken`; about one month of life; not rotated by refreshing.',
    }),
    refreshTokenExpiresAt: t.field({
      type: 'DateTime',
      description: 'When the refresh token expires.',
      resolve: (token) => token.refresh_token_expires_at,
    }),
    communityMemberId: t.id({
      description: "The member's Circle community member id.",
      resolve: (token) => String(token.community_member_id),
    }),
    communityId: t.id({
      description: "The member's Circle community id.",
      resolve: (token) => String(token.community_id),
    }),
  }),
});

/** What a caller that fails `tokensFor` gets: UNAUTHENTICATED (top-level) without credentials, else FORBIDDEN. */
export function notAuthorized(context: Context, lookup: { by: MemberLookup; value: string }): Error {
  const { caller } = context;
  const anonymous = caller.kind === 'anonymous';
  context.loaders.refused(anonymous ? 'UNAUTHENTICATED' : 'FORBIDDEN', lookup.by, lookup.value);
  if (anonymous)
    return unauthenticated('Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.');
  if (caller.kind === 'session')
    return new ForbiddenResult(
      'A session gets its access token from sessionToken: member tokens carry a refresh token, which stays on the server.',
    );
  if (
    caller.kind === 'member' &&
    context.sessions?.mode === 'required' &&
    mayGetTokensFor(caller, lookup.by, lookup.value)
  )
    return new ForbiddenResult(
      'Refresh tokens stay on the server here (SESSIONS=required): call startSession, then sessionToken.',
    );
  return new ForbiddenResult();
}

/** The error types a member-token lookup can end in (shared with the federation entity). */
/**
 * A member token's failures beyond every token field's (the builder's `defaultTypes`). InvalidInput,
 * a default too, is named first only to keep the unions' member order as printed before.
 */
export const memberTokenErrors = [InvalidInputResult, MemberNotFoundResult, ForbiddenResult];

builder.queryField('memberToken', (t) =>
  t.field({
    type: MemberTokenType,
    description: "Gets a member's access and refresh token (Circle auth_token).",
    args: {
      by: t.arg({ type: MemberLookupEnum, required: true, description: 'Which identifier `value` is.' }),
      value: t.arg.string({ required: true, description: 'The member id, email address or SSO user id.' }),
    },
    validate: memberLookupArgs,
    errors: {
      types: memberTokenErrors,
      union: { name: 'MemberTokenResult', description: 'A member token, or why not.' },
    },
    // A trusted backend may ask for anyone; a member only for itself (auth/rules.ts).
    authScopes: (_root, args) => ({ tokensFor: { by: args.by, value: args.value } }),
    unauthorizedError: (_root, args, context) => notAuthorized(context, args),
    resolve: (_root, args, context) => context.loaders.memberToken(args.by, args.value),
  }),
);
