import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let open: Stack;
let locked: Stack;
beforeAll(async () => {
  open = await startStack();
  locked = await startStack({ gateway: { graphiql: false, introspection: false } });
});
afterAll(async () => {
  await open.close();
  await locked.close();
});

const page = (stack: Stack) =>
  stack.gateway.fetch('http://gateway/graphql', { headers: { accept: 'text/html' } });

describe('GraphiQL', () => {
  it('is served with its assets inlined and the six example operations', async () => {
    const response = await page(open);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    for (const name of [
      'MemberTokenByEmail',
      'MemberTokenById',
      'MemberTokenBySso',
      'RefreshToken',
      'RevokeRefreshToken',
      'RevokeAccessToken',
    ]) {
      expect(html).toContain(name);
    }
  });

  it('is kept compressed: brotli or gzip as the client accepts, the same page, stamped like any answer', async () => {
    const plain = Buffer.from(await (await page(open)).arrayBuffer());
    for (const [accept, encoding, decode] of [
      ['gzip, deflate, br', 'br', brotliDecompressSync],
      ['gzip', 'gzip', gunzipSync],
    ] as const) {
      const response = await open.gateway.fetch('http://gateway/graphql', {
        headers: { accept: 'text/html', 'accept-encoding': accept },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBe(encoding);
      expect(response.headers.get('vary')).toBe('Accept-Encoding');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      // The raw bytes as sent: whatwg-node's fetch does not decode them.
      const sent = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(sent.length);
      expect(sent.length).toBeLessThan(plain.length / 3);
      expect(decode(sent).equals(plain)).toBe(true);
    }
  });

  it('is not served when disabled', async () => {
    const response = await page(locked);
    expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
  });
});

describe('introspection', () => {
  it('is refused when disabled, while queries still work', async () => {
    const response = await locked.post('{ __schema { queryType { name } } }');
    expect(response.body.errors?.[0]?.message).toBe(
      'GraphQL introspection has been disabled, but the requested query contained the field "__schema".',
    );
    const query = await locked.post('{ memberToken(by: ID, value: "1") { __typename } }');
    expect(query.body.data?.memberToken?.__typename).toBe('MemberToken');
  });
});
