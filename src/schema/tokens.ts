import { InvalidInputResult, InvalidTokenResult, TokenExpiredResult } from '../domain/outcomes.js';
import type { TokenRevoked } from '../domain/types.js';
import type { RefreshedAccessToken } from '../loaders/index.js';
import { builder } from './builder.js';
import { tokenArg } from './validation.js';

const AccessTokenType = builder.objectRef<RefreshedAccessToken>('AccessToken').implement({
  description: 'A new access token. The refresh token used stays valid (Circle does not rotate it).',
  fields: (t) => ({
    accessToken: t.exposeString('access_token', { description: 'JWT for the Circle member API.' }),
    accessTokenExpiresAt: t.field({
      type: 'DateTime',
      description: 'When the access token expires.',
      resolve: (token) => token.access_token_expires_at,
    }),
  }),
});

export const TokenRevokedType = builder.objectRef<TokenRevoked>('TokenRevoked').implement({
  description:
    'The token can no longer be used. As in RFC 7009, a token that was already unusable (unknown, expired, revoked) gives the same answer.',
  fields: (t) => ({
    revoked: t.exposeBoolean('revoked', { description: 'Always true.' }),
  }),
});

builder.mutationField('refreshToken', (t) =>
  t.field({
    type: AccessTokenType,
    description: 'Gets a new access token from a refresh token (Circle access_token/refresh).',
    args: {
      refreshToken: t.arg.string({ required: true, description: 'The refresh token.', validate: tokenArg }),
    },
    errors: {
      // InvalidInput (a default) first only to keep the union's member order as printed before.
      types: [InvalidInputResult, InvalidTokenResult, TokenExpiredResult],
      union: { name: 'RefreshTokenResult', description: 'A new access token, or why not.' },
    },
    resolve: (_root, args, context) => context.loaders.refresh(args.refreshToken),
  }),
);

builder.mutationField('revokeRefreshToken', (t) =>
  t.field({
    type: TokenRevokedType,
    description: 'Revokes a refresh token. Access tokens minted from it stay valid until they expire.',
    args: {
      refreshToken: t.arg.string({ required: true, description: 'The refresh token.', validate: tokenArg }),
    },
    errors: {
      union: {
        name: 'RevokeRefreshTokenResult',
        description: 'Revoked, or why that could not be confirmed.',
      },
    },
    resolve: (_root, args, context) => context.loaders.revokeRefresh(args.refreshToken),
  }),
);

builder.mutationField('revokeAccessToken', (t) =>
  t.field({
    type: TokenRevokedType,
    description: 'Revokes an access token.',
    args: {
      accessToken: t.arg.string({ required: true, description: 'The access token.', validate: tokenArg }),
    },
    errors: {
      union: { name: 'RevokeAccessTokenResult', description: 'Revoked, or why that could not be confirmed.' },
    },
    resolve: (_root, args, context) => context.loaders.revokeAccess(args.accessToken),
  }),
);
