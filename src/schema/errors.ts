import {
  type ErrorCode,
  type ErrorResult,
  errorCodes,
  ForbiddenResult,
  InvalidInputResult,
  InvalidTokenResult,
  MemberNotFoundResult,
  NoSessionResult,
  RateLimitedResult,
  TokenExpiredResult,
  UpstreamUnavailableResult,
} from '../domain/outcomes.js';
import { builder } from './builder.js';

const codeDescriptions: Record<ErrorCode, string> = {
  MEMBER_NOT_FOUND: 'No Circle community member matches the identifier.',
  INVALID_INPUT: 'An argument was malformed; nothing was sent to Circle.',
  INVALID_TOKEN: 'The token is unknown, malformed or revoked.',
  TOKEN_EXPIRED: 'The refresh token has expired.',
  FORBIDDEN: 'The caller may not act for that member.',
  RATE_LIMITED: 'Too many calls; retry after `retryAfterSeconds`.',
  UPSTREAM_UNAVAILABLE:
    'Circle (or, for a session operation, session storage) could not be reached or failed; nothing is known to have changed.',
  NO_SESSION:
    'No live session: none was started in this browser, or it has ended (signed out, idle, too old, or its refresh token expired or was revoked).',
};

const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable machine-readable codes of the expected failures.',
  values: Object.fromEntries(errorCodes.map((code) => [code, { description: codeDescriptions[code] }])),
});

const ErrorInterface = builder.interfaceRef<ErrorResult>('Error').implement({
  description: 'An expected failure. Query `... on Error { code message }` on any result union.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'Stable code to branch on.', resolve: (e) => e.code }),
    message: t.exposeString('message', {
      description: 'Human-readable explanation; never contains a secret.',
    }),
  }),
});

function errorType(cls: new () => ErrorResult, name: string, description: string) {
  return builder.objectType(cls, {
    name,
    description,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof cls,
    fields: () => ({}),
  });
}

errorType(MemberNotFoundResult, 'MemberNotFound', codeDescriptions.MEMBER_NOT_FOUND);
errorType(InvalidTokenResult, 'InvalidToken', codeDescriptions.INVALID_TOKEN);
errorType(TokenExpiredResult, 'TokenExpired', codeDescriptions.TOKEN_EXPIRED);
errorType(ForbiddenResult, 'Forbidden', codeDescriptions.FORBIDDEN);
errorType(UpstreamUnavailableResult, 'UpstreamUnavailable', codeDescriptions.UPSTREAM_UNAVAILABLE);
errorType(NoSessionResult, 'NoSession', codeDescriptions.NO_SESSION);

builder.objectType(InvalidInputResult, {
  name: 'InvalidInput',
  description: codeDescriptions.INVALID_INPUT,
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidInputResult,
  fields: (t) => ({
    argument: t.exposeString('argument', { description: 'The argument at fault.' }),
  }),
});

builder.objectType(RateLimitedResult, {
  name: 'RateLimited',
  description: codeDescriptions.RATE_LIMITED,
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof RateLimitedResult,
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      description: 'Seconds to wait before retrying; 0 when retrying the same operation cannot help.',
    }),
  }),
});
