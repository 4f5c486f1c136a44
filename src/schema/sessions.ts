import { unauthenticated } from '../auth/callers.js';
import { ForbiddenResult, InvalidInputResult, NoSessionResult } from '../domain/outcomes.js';
import type { SessionToken } from '../sessions/index.js';
import { builder, type Context } from './builder.js';
import { MemberLookupEnum } from './member-token.js';
import { TokenRevokedType } from './tokens.js';
import { memberLookupArgs } from './validation.js';

const SessionTokenType = builder.objectRef<SessionToken>('SessionToken').implement({
  description:
    "A session's access token: never a refresh token, which stays on the server. Use it against Circle's Headless Member API; ask `sessionToken` again when it nears `accessTokenExpiresAt`.",
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'JWT for the Circle member API.' }),
    accessTokenExpiresAt: t.field({
      type: 'DateTime',
      description: 'When the access token expires.',
      resolve: (token) => token.accessTokenExpiresAt,
    }),
    communityMemberId: t.id({
      description: "The session's member: Circle community member id.",
      resolve: (token) => String(token.communityMemberId),
    }),
    communityId: t.id({
      description: "The member's Circle community id.",
      resolve: (token) => String(token.communityId),
    }),
  }),
});

const SessionsEndedType = builder.objectRef<{ ended: number }>('SessionsEnded').implement({
  description:
    "A member's sessions ended: their cookies answer NO_SESSION from now on, their Circle tokens revoked.",
  fields: (t) => ({
    ended: t.exposeInt('ended', { description: 'How many live sessions were ended.' }),
  }),
});

/** The session operations of this request, or FORBIDDEN when SESSIONS=off. */
function sessionsOf(context: Context) {
  if (!context.sessions)
    throw new ForbiddenResult('Sessions are off on this gateway (SESSIONS=off): ask its operator.');
  return context.sessions;
}

/** An expected failure is the result; anything else is thrown, to be masked. */
function answer<T>(result: T): Exclude<T, Error> {
  if (result instanceof Error) throw result;
  return result as Exclude<T, Error>;
}

builder.mutationField('startSession', (t) =>
  t.field({
    type: SessionTokenType,
    description:
      'Member JWT callers only (from a browser: POST, `x-circle-csrf: 1`, an origin in CORS_ORIGINS): starts a session for the calling member (mints at Circle once), sets the HttpOnly session cookie and answers the access token. A session cookie sent along is replaced (that session ends).',
    errors: {
      types: [InvalidInputResult, ForbiddenResult],
      union: { name: 'StartSessionResult', description: "A session's access token, or why not." },
    },
    resolve: async (_root, _args, context) => {
      const sessions = sessionsOf(context);
      const { caller } = context;
      if (caller.kind === 'anonymous')
        throw unauthenticated(
          'Authentication required: startSession takes Authorization: Bearer <member JWT>.',
        );
      if (caller.kind !== 'member')
        throw new ForbiddenResult(
          caller.kind === 'backend'
            ? 'Only a member signed in with a JWT can start a session: API-key callers cannot.'
            : "A session is started with the member's JWT (Authorization: Bearer), not with the session cookie.",
        );
      const refusal = sessions.browserRefusal();
      if (refusal) throw new ForbiddenResult(refusal);
      const started = answer(await sessions.service.start(caller, context.loaders, context.requestId));
      sessions.setCookie(started.cookie.value, started.cookie.maxAgeS);
      return started.token;
    },
  }),
);

builder.queryField('sessionToken', (t) =>
  t.field({
    type: SessionTokenType,
    description: `Session cookie: the session's access token; no upstream call while it has more than SESSION_REFRESH_MARGIN_S left, else refreshed at Circle once for every replica.`,
    errors: {
      types: [NoSessionResult, ForbiddenResult],
      union: { name: 'SessionTokenResult', description: "The session's access token, or why not." },
    },
    resolve: async (_root, _args, context) => {
      const sessions = sessionsOf(context);
      const { caller } = context;
      if (caller.kind !== 'session')
        throw new NoSessionResult(
          'No session cookie came with the request: start a session with startSession.',
        );
      const token = await sessions.service.token(caller.cookie, context.loaders, context.requestId);
      // An ended session's cookie is of no more use: the browser drops it.
      if (token instanceof NoSessionResult) sessions.clearCookie();
      return answer(token);
    },
  }),
);

builder.mutationField('endSession', (t) =>
  t.field({
    type: TokenRevokedType,
    description:
      "Session cookie: ends this browser's session, revokes its Circle tokens (RFC 7009 semantics: the access tokens it handed out, and its refresh token unless another live session holds it) and clears the cookie.",
    errors: {
      types: [NoSessionResult, ForbiddenResult],
      union: { name: 'EndSessionResult', description: 'Ended and revoked, or why not.' },
    },
    resolve: async (_root, _args, context) => {
      const sessions = sessionsOf(context);
      const { caller } = context;
      const cookie = caller.kind === 'session' ? caller.cookie : undefined;
      const ended = await sessions.service.end(cookie, context.requestId);
      if (cookie) sessions.clearCookie();
      return answer(ended);
    },
  }),
);

builder.mutationField('endMemberSessions', (t) =>
  t.field({
    type: SessionsEndedType,
    description:
      "API-key callers only: ends every session of a member (sign-out everywhere, which Circle's API alone cannot do) and revokes their tokens. Sessions are found by every identifier known when they started, without calling Circle.",
    args: {
      by: t.arg({ type: MemberLookupEnum, required: true, description: 'Which identifier `value` is.' }),
      value: t.arg.string({ required: true, description: 'The member id, email address or SSO user id.' }),
    },
    validate: memberLookupArgs,
    errors: {
      types: [InvalidInputResult, ForbiddenResult],
      union: { name: 'EndMemberSessionsResult', description: 'How many sessions ended, or why not.' },
    },
    resolve: async (_root, args, context) => {
      const sessions = sessionsOf(context);
      if (context.caller.kind === 'anonymous')
        throw unauthenticated('Authentication required: endMemberSessions takes x-api-key.');
      if (context.caller.kind !== 'backend')
        throw new ForbiddenResult("Only API-key callers (backends) can end a member's sessions.");
      return answer(await sessions.service.endMember(args.by, args.value, context.requestId));
    },
  }),
);
