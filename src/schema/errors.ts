import { builder } from './builder.js';
import {
  type ErrorCode,
  errorCodes,
  Forbidden,
  InvalidInput,
  InvalidToken,
  MemberNotFound,
  RateLimited,
  type ResultError,
  TokenExpired,
  UpstreamUnavailable,
} from './results.js';

const codeDescriptions: Record<ErrorCode, string> = {
  MEMBER_NOT_FOUND: 'No Circle community member matches the identifier.',
  INVALID_INPUT: 'An argument was malformed; nothing was sent to Circle.',
  INVALID_TOKEN: 'The token is unknown, malformed or revoked.',
  TOKEN_EXPIRED: 'The refresh token has expired.',
  FORBIDDEN: 'The caller may not act for that member.',
  RATE_LIMITED: 'Too many calls; retry after `retryAfterSeconds`.',
  UPSTREAM_UNAVAILABLE: 'Circle could not be reached or failed; nothing is known to have changed.',
};

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable machine-readable codes of the expected failures.',
  values: Object.fromEntries(errorCodes.map((code) => [code, { description: codeDescriptions[code] }])),
});

export const ErrorInterface = builder.interfaceRef<ResultError>('Error').implement({
  description: 'An expected failure. Query `... on Error { code message }` on any result union.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'Stable code to branch on.', resolve: (e) => e.code }),
    message: t.exposeString('message', {
      description: 'Human-readable explanation; never contains a secret.',
    }),
  }),
});

function errorType(cls: new () => ResultError, name: string, description: string) {
  return builder.objectType(cls, {
    name,
    description,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof cls,
    fields: () => ({}),
  });
}

errorType(MemberNotFound, 'MemberNotFound', codeDescriptions.MEMBER_NOT_FOUND);
errorType(InvalidToken, 'InvalidToken', codeDescriptions.INVALID_TOKEN);
errorType(TokenExpired, 'TokenExpired', codeDescriptions.TOKEN_EXPIRED);
errorType(Forbidden, 'Forbidden', codeDescriptions.FORBIDDEN);
errorType(UpstreamUnavailable, 'UpstreamUnavailable', codeDescriptions.UPSTREAM_UNAVAILABLE);

builder.objectType(InvalidInput, {
  name: 'InvalidInput',
  description: codeDescriptions.INVALID_INPUT,
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidInput,
  fields: (t) => ({
    argument: t.exposeString('argument', { description: 'The argument at fault.' }),
  }),
});

builder.objectType(RateLimited, {
  name: 'RateLimited',
  description: codeDescriptions.RATE_LIMITED,
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof RateLimited,
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      description: 'Seconds to wait before retrying; 0 when retrying the same operation cannot help.',
    }),
  }),
});
