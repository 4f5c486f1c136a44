import { readFileSync } from 'node:fs';
import { buildSchema, isAbstractType, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemberTokenDocument,
  type MemberTokenQuery,
  RefreshTokenDocument,
  type RefreshTokenMutation,
  RevokeRefreshTokenDocument,
  type RevokeRefreshTokenMutation,
} from '../../clients/operations.js';
import { clientArtefacts, printClientArtefacts } from '../../scripts/client-artefacts.js';
import { printPublicSchema } from '../../src/schema/print.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * The artefacts a TypeScript frontend imports (clients/): committed, generated from the schema by
 * graphql-codegen, and what the gateway really answers.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

describe('the generated client artefacts', () => {
  it('are what `npm run schema` writes now (run it after changing the schema or the operations)', async () => {
    const now = await printClientArtefacts();
    expect(readFileSync(clientArtefacts.possibleTypes, 'utf8')).toBe(now.possibleTypes);
    expect(readFileSync(clientArtefacts.operations, 'utf8')).toBe(now.operations);
    expect(readFileSync(clientArtefacts.trustedDocuments, 'utf8')).toBe(now.trustedDocuments);
  }, 30_000);

  it('list every union and interface with all its member types, for Apollo Client’s possibleTypes', () => {
    const schema = buildSchema(printPublicSchema());
    const { possibleTypes } = JSON.parse(readFileSync(clientArtefacts.possibleTypes, 'utf8')) as {
      possibleTypes: Record<string, string[]>;
    };
    const abstract = Object.values(schema.getTypeMap()).filter((type) => isAbstractType(type));
    expect(Object.keys(possibleTypes).sort()).toEqual(abstract.map((type) => type.name).sort());
    for (const type of abstract) {
      if (!isAbstractType(type)) continue;
      expect(possibleTypes[type.name]?.sort()).toEqual(
        schema
          .getPossibleTypes(type)
          .map((t) => t.name)
          .sort(),
      );
    }
  });

  it('are documents the gateway runs, with the result types it answers', async () => {
    const issued = await stack.post(print(MemberTokenDocument), { by: 'EMAIL', value: 'ada@example.com' });
    const token = (issued.body.data as unknown as MemberTokenQuery).memberToken;
    if (token.__typename !== 'MemberToken')
      throw new Error(`expected a MemberToken, got ${token.__typename}`);
    expect(token.refreshToken).toMatch(/\S{16,}/);
    const refreshed = (
      (await stack.post(print(RefreshTokenDocument), { refreshToken: token.refreshToken })).body
        .data as unknown as RefreshTokenMutation
    ).refreshToken;
    expect(refreshed.__typename).toBe('AccessToken');
    const revoked = (
      (await stack.post(print(RevokeRefreshTokenDocument), { refreshToken: token.refreshToken })).body
        .data as unknown as RevokeRefreshTokenMutation
    ).revokeRefreshToken;
    expect(revoked).toEqual({ __typename: 'TokenRevoked', revoked: true });
    const unknown = (
      (await stack.post(print(MemberTokenDocument), { by: 'EMAIL', value: 'nobody@example.com' })).body
        .data as unknown as MemberTokenQuery
    ).memberToken;
    expect(unknown).toEqual({
      __typename: 'MemberNotFound',
      code: 'MEMBER_NOT_FOUND',
      message: 'No Circle community member matches that identifier.',
    });
  });
});
