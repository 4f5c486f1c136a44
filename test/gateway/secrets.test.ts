import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/sandbox/simulator.js';
import {
  accessTokenFields,
  memberTokenFields,
  revokedFields,
  type Stack,
  startStack,
} from '../support/stack.js';

let stack: Stack;
let wrongToken: Stack;
const responses: string[] = [];
const minted: string[] = [];

beforeAll(async () => {
  stack = await startStack({ client: { breakerMinimumCalls: 1000 } });
  wrongToken = await startStack({ client: { appToken: 'a-wrong-app-token-that-must-never-leak' } });
});
afterAll(async () => {
  await stack.close();
  await wrongToken.close();
});

async function run(target: Stack, query: string, variables?: Record<string, unknown>) {
  const response = await target.post(query, variables);
  responses.push(response.text);
  return response;
}

describe('no secret in any response or log line', () => {
  it('holds after a tour of every operation and failure', async () => {
    const issued = await run(
      stack,
      `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`,
    );
    const token = issued.body.data?.memberToken as { accessToken: string; refreshToken: string };
    minted.push(token.accessToken, token.refreshToken);
    responses.pop(); // the one response that legitimately carries tokens

    const refreshed = await stack.post(
      `mutation($t: String!) { refreshToken(refreshToken: $t) { ${accessTokenFields} } }`,
      { t: token.refreshToken },
    );
    minted.push(String(refreshed.body.data?.refreshToken?.accessToken));

    await run(stack, `{ memberToken(by: EMAIL, value: "nobody@example.com") { ${memberTokenFields} } }`);
    await run(stack, `{ memberToken(by: EMAIL, value: "not an email") { ${memberTokenFields} } }`);
    await run(stack, `mutation($t: String!) { refreshToken(refreshToken: $t) { ${accessTokenFields} } }`, {
      t: 'unknown-refresh-token-abc',
    });
    stack.sandbox.setFaults({ queue: [{ kind: 'error', status: 502, html: true }] });
    await run(stack, `{ memberToken(by: SSO, value: "sso-ada") { ${memberTokenFields} } }`);
    stack.sandbox.setFaults({
      queue: [{ kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' }],
    });
    await run(stack, `mutation($t: String!) { revokeAccessToken(accessToken: $t) { ${revokedFields} } }`, {
      t: token.accessToken,
    });
    await run(stack, `mutation($t: String!) { revokeRefreshToken(refreshToken: $t) { ${revokedFields} } }`, {
      t: token.refreshToken,
    });
    await run(stack, '{ notAField }');
    await run(wrongToken, `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`);
    await run(wrongToken, `mutation { revokeAccessToken(accessToken: "x.y.z") { ${revokedFields} } }`);

    const configError = wrongToken.logLines.find((line) => line.includes('Circle rejected the app token'));
    expect(configError).toBeDefined();
    expect(JSON.parse(configError ?? '{}')).toMatchObject({
      level: 50,
      code: 'APP_TOKEN_REJECTED',
      status: 401,
    });

    const secrets = [
      stack.sandbox.appToken,
      'a-wrong-app-token-that-must-never-leak',
      stack.sandbox.url,
      wrongToken.sandbox.url,
      new URL(stack.sandbox.url).host,
      'ada@example.com',
      'nobody@example.com',
      'unknown-refresh-token-abc',
      ...minted,
      ...Object.values(messages),
      '502 Bad Gateway',
    ];
    const logs = [...stack.logLines, ...wrongToken.logLines];
    expect(logs.length).toBeGreaterThan(5);
    for (const text of [...responses, ...logs]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
