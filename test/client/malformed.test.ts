import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CircleClient, createClient } from '../../src/client/sdk.js';

const origin = 'https://circle.test';
let agent: MockAgent;
let client: CircleClient;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = createClient({
    appToken: 'app-token-for-malformed-tests',
    baseURL: origin,
    dispatcher: agent,
    maxResponseBytes: 1024,
  });
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

const goodToken = {
  access_token: 'eyJ.a.b',
  refresh_token: 'jaebyVK59l5xxAx1D4pM8H-wYyFA6gMC12RGYZcy44w',
  access_token_expires_at: '2024-03-20T16:54:47.274Z',
  refresh_token_expires_at: '2024-04-19T15:54:47.274Z',
  community_member_id: 7,
  community_id: 1,
};

function replyOnce(status: number, body: string, contentType = 'application/json') {
  agent
    .get(origin)
    .intercept({ path: '/api/v1/headless/auth_token', method: 'POST' })
    .reply(status, body, { headers: { 'content-type': contentType } });
}

describe('malformed upstream answers are contract violations', () => {
  const cases: Array<[string, number, string, string]> = [
    [
      'an HTML 502 page',
      502,
      '<html><body>502 Bad Gateway</body></html>',
      "Circle's answer broke the API contract: status 502 without Circle's JSON error body.",
    ],
    [
      'truncated JSON',
      200,
      JSON.stringify(goodToken).slice(0, 40),
      "Circle's answer broke the API contract: status 200 with a body that is not JSON.",
    ],
    [
      'a 200 with an empty body',
      200,
      '',
      "Circle's answer broke the API contract: status 200 with a body that is not JSON.",
    ],
    [
      'wrong field types',
      200,
      JSON.stringify({ ...goodToken, community_member_id: '7', community_id: 0 }),
      "Circle's answer broke the API contract: invalid or missing community_member_id, community_id.",
    ],
    [
      'a missing field',
      200,
      JSON.stringify({ ...goodToken, refresh_token: undefined }),
      "Circle's answer broke the API contract: invalid or missing refresh_token.",
    ],
    [
      'a timestamp that is not ISO-8601',
      200,
      JSON.stringify({ ...goodToken, access_token_expires_at: 'tomorrow' }),
      "Circle's answer broke the API contract: invalid or missing access_token_expires_at.",
    ],
    ['a JSON array', 200, '[]', "Circle's answer broke the API contract: invalid or missing (body)."],
    [
      'an undocumented status',
      418,
      JSON.stringify({ success: false, message: 'teapot', error_details: null }),
      "Circle's answer broke the API contract: undocumented status 418.",
    ],
    [
      'a body over maxResponseBytes',
      200,
      JSON.stringify({ ...goodToken, padding: 'x'.repeat(2000) }),
      "Circle's answer broke the API contract: response body over 1024 bytes.",
    ],
  ];

  for (const [name, status, body, message] of cases) {
    it(`maps ${name} to CONTRACT_VIOLATION`, async () => {
      replyOnce(status, body, status === 502 ? 'text/html' : 'application/json');
      const error = await client.api.issueMemberToken({ communityMemberId: 7 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CONTRACT_VIOLATION', message, status });
    });
  }

  it('accepts extra fields and drops them', async () => {
    replyOnce(200, JSON.stringify({ ...goodToken, unexpected: true }));
    await expect(client.api.issueMemberToken({ communityMemberId: 7 })).resolves.toStrictEqual(goodToken);
  });
});
