import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadTrustedDocuments } from '../../src/config/trusted-documents.js';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * TRUSTED_DOCUMENTS with the manifest shipped in clients/: member-JWT and anonymous callers run
 * only its documents, by documentId or Apollo's sha256Hash; API-key callers may send any document.
 */
const manifestPath = new URL('../../clients/trusted-documents.json', import.meta.url);
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
const idOf = (name: string) => {
  const id = Object.keys(manifest).find(
    (key) => manifest[key]?.includes(`query ${name}(`) || manifest[key]?.includes(`mutation ${name}(`),
  );
  if (!id) throw new Error(`no ${name} in the manifest`);
  return id;
};
const apiKey = 'trusted-documents-api-key-0123456789';
let stack: Stack;
let member: string;

beforeAll(async () => {
  stack = await startStack({
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['router', apiKey]]), jwt: testJwt },
      trustedDocuments: loadTrustedDocuments(manifestPath.pathname),
    },
  });
  member = await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada');
});
afterAll(async () => {
  await stack.close();
});

async function send(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await stack.gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: Record<string, { __typename: string }>;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

const asMember = () => ({ authorization: `Bearer ${member}` });
const variables = { by: 'EMAIL', value: 'ada@example.com' };

describe('trusted documents', () => {
  it('run for a member by documentId, with or without sha256:, and by Apollo’s sha256Hash', async () => {
    const id = idOf('MemberToken');
    for (const body of [
      { documentId: id, variables },
      { documentId: `sha256:${id}`, variables },
      { extensions: { persistedQuery: { version: 1, sha256Hash: id } }, variables },
    ]) {
      const answer = await send(body, asMember());
      expect(answer.body.data?.memberToken?.__typename, JSON.stringify(answer.body)).toBe('MemberToken');
    }
  });

  it('refuse any other document from a member or an anonymous caller, before it runs', async () => {
    const before = stack.sandbox.stats().calls.authToken;
    const query = '{ memberToken(by: EMAIL, value: "ada@example.com") { __typename } }';
    for (const headers of [asMember(), {}]) {
      const answer = await send({ query }, headers);
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]).toMatchObject({
        message:
          'Only trusted documents may be run by this caller: send the documentId of a document in the manifest instead of a query.',
        extensions: { code: 'PERSISTED_QUERY_ONLY' },
      });
    }
    const unknown = await send({ documentId: 'f'.repeat(64) }, asMember());
    expect(unknown.body.errors?.[0]).toMatchObject({
      message: 'No trusted document has that id.',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    expect(stack.sandbox.stats().calls.authToken).toBe(before);
  });

  it('exempt no one for a Referer, even the gateway’s own GraphiQL page’s; an API key exempts', async () => {
    const query = '{ __typename }';
    for (const referer of ['http://gateway/graphql', 'http://evil.example/graphql']) {
      const forged = await send({ query }, { referer });
      expect(forged.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
      const member = await send({ query }, { ...asMember(), referer });
      expect(member.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    }
    const withKey = await send({ query }, { referer: 'http://gateway/graphql', 'x-api-key': apiKey });
    expect(withKey.body).toEqual({ data: { __typename: 'Query' } });
    const production = await startStack({
      gateway: {
        openAccess: false,
        graphiql: false,
        auth: { apiKeys: new Map([['router', apiKey]]), jwt: testJwt },
        trustedDocuments: loadTrustedDocuments(manifestPath.pathname),
      },
    });
    try {
      const answer = await production.gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          referer: 'http://gateway/graphql',
        },
        body: JSON.stringify({ query }),
      });
      expect(
        ((await answer.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions
          ?.code,
      ).toBe('PERSISTED_QUERY_ONLY');
    } finally {
      await production.close();
    }
  });

  it('let an API-key caller (a router, a backend) send any document', async () => {
    const answer = await send(
      { query: '{ memberToken(by: EMAIL, value: "grace@example.com") { __typename } }' },
      { 'x-api-key': apiKey },
    );
    expect(answer.body.data?.memberToken?.__typename).toBe('MemberToken');
  });
});

describe('a TRUSTED_DOCUMENTS manifest that does not hold together', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cag-trusted-'));
  const write = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const body = '{ __typename }';
  const hash = createHash('sha256').update(body).digest('hex');

  it('stops start-up with the entry named', () => {
    const cases: [string, string][] = [
      [
        write('wrong-hash.json', { ['0'.repeat(64)]: body }),
        `TRUSTED_DOCUMENTS: entry "${'0'.repeat(64)}": the id is not the SHA-256 of its document`,
      ],
      [
        write('unparsable.json', { broken: '{ memberToken(' }),
        'TRUSTED_DOCUMENTS: entry "broken": the document does not parse',
      ],
      [
        write('empty.json', {}),
        `TRUSTED_DOCUMENTS: expected at least one document in ${JSON.stringify(join(dir, 'empty.json'))}`,
      ],
      [
        write('not-json.json', 'nope'),
        `TRUSTED_DOCUMENTS: expected a readable JSON manifest, got ${JSON.stringify(join(dir, 'not-json.json'))} (not JSON)`,
      ],
    ];
    for (const [path, message] of cases) {
      expect(() => loadConfig({ TRUSTED_DOCUMENTS: path })).toThrow(new ConfigError(message));
    }
  });

  it('reads Apollo’s persisted query manifest as well as an id → document map', () => {
    const apollo = write('apollo.json', {
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: hash, body, name: 'Typename', type: 'query' }],
    });
    expect(loadConfig({ TRUSTED_DOCUMENTS: apollo }).trustedDocuments?.get(hash)).toBe(body);
    expect(
      loadConfig({ TRUSTED_DOCUMENTS: write('map.json', { [hash]: body }) }).trustedDocuments?.get(
        `sha256:${hash}`,
      ),
    ).toBe(body);
  });
});
