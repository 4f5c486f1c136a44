import { MockAgent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/sdk.js';

// No interceptor is registered and the network is disabled: any request that left the client would
// fail with UPSTREAM_CONNECTION, so INVALID_INPUT proves the call stopped before the network.
const agent = new MockAgent();
agent.disableNetConnect();
const client = createClient({
  appToken: 'app-token-for-input-tests',
  baseURL: 'https://circle.test',
  dispatcher: agent,
});

afterAll(() => agent.close());

describe('bad input is rejected before any network call', () => {
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    [
      'member id 0',
      () => client.getMemberAPITokenFromCommunityMemberId(0),
      'Invalid communityMemberId: expected a positive integer.',
    ],
    [
      'member id 1.5',
      () => client.getMemberAPITokenFromCommunityMemberId(1.5),
      'Invalid communityMemberId: expected a positive integer.',
    ],
    [
      'member id -3',
      () => client.getMemberAPITokenFromCommunityMemberId(-3),
      'Invalid communityMemberId: expected a positive integer.',
    ],
    [
      'member id as a string',
      () => client.getMemberAPITokenFromCommunityMemberId('7' as unknown as number),
      'Invalid communityMemberId: expected a positive integer.',
    ],
    [
      'empty email',
      () => client.getMemberAPITokenFromEmail(''),
      'Invalid email: expected a non-empty email address.',
    ],
    [
      'malformed email',
      () => client.getMemberAPITokenFromEmail('ada-at-example.com'),
      'Invalid email: expected an email address like name@example.com.',
    ],
    [
      'over-long email',
      () => client.getMemberAPITokenFromEmail(`${'a'.repeat(250)}@example.com`),
      'Invalid email: expected at most 254 characters.',
    ],
    [
      'blank SSO id',
      () => client.getMemberAPITokenFromSSOId('   '),
      'Invalid ssoId: expected a non-empty string.',
    ],
    [
      'SSO id with a newline',
      () => client.getMemberAPITokenFromSSOId('abc\ninjected'),
      'Invalid ssoId: control characters are not allowed.',
    ],
    [
      'empty refresh token',
      () => client.getMemberAPITokenFromRefreshToken(''),
      'Invalid refreshToken: expected a non-empty token.',
    ],
    [
      'over-long refresh token',
      () => client.revokeRefreshToken('r'.repeat(4097)),
      'Invalid refreshToken: expected at most 4096 characters.',
    ],
    [
      'access token with a space',
      () => client.revokeMemberAPIToken('eyJ abc'),
      'Invalid accessToken: expected printable ASCII without spaces.',
    ],
  ];

  for (const [name, run, message] of cases) {
    it(`rejects ${name} with INVALID_INPUT naming the argument`, async () => {
      await expect(run()).rejects.toMatchObject({ code: 'INVALID_INPUT', message });
    });
  }

  it('never echoes the rejected value', async () => {
    const secret = 'secret value with spaces';
    const error = (await client.revokeMemberAPIToken(secret).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(secret);
  });
});

describe('client options are validated once, loudly', () => {
  it('rejects an empty app token', () => {
    expect(() => createClient({ appToken: '' })).toThrow('createClient: appToken must be a non-empty string');
  });
  it('rejects a base URL that is not http(s)', () => {
    expect(() => createClient({ appToken: 'x', baseURL: 'ftp://circle.test' })).toThrow(
      'createClient: baseURL must be an absolute http(s) URL',
    );
  });
  it('rejects a non-positive timeout', () => {
    expect(() => createClient({ appToken: 'x', headersTimeoutMs: 0 })).toThrow(
      'createClient: headersTimeoutMs must be a positive number, got 0',
    );
  });
  it('rejects a revoke attempt bound under 1', () => {
    expect(() => createClient({ appToken: 'x', dispatcher: agent, revokeMaxAttempts: 0 })).toThrow(
      'createClient: revokeMaxAttempts must be a number >= 1, got 0',
    );
  });
});
