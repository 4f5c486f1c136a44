import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustedDocuments } from '../../src/config/trusted-documents.js';
import { signMemberJwt, testJwt } from '../support/jwt.js';
import {
  memberTokenFields,
  type Stack,
  type StackOptions,
  startStack,
  testRateLimits,
} from '../support/stack.js';

/**
 * The two doors, request by request: two gateways built alike, one served as main serves it (the
 * front door, yoga behind it), the other through yoga's request listener alone, get the same
 * requests in the same order. Everything a client or an operator sees must be the same: status,
 * headers, body (key order included), upstream calls, log lines, audit events and metrics; the
 * door counter, timings, ids and tokens aside (and CORS headers, which only yoga writes).
 */
const apiKey = 'doors-test-key-0123456789abcdef';
const tokenQuery = `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;
const manifest = new URL('../../clients/trusted-documents.json', import.meta.url);

interface Sent {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Seen {
  status: number;
  headers: Record<string, string>;
  body: string;
  upstreamCalls: Record<string, number>;
  log: string[];
  audit: string[];
  metrics: string[];
}

// Values that differ between two gateways for the same request: tokens, times, ids, durations.
const varyingJson =
  /"(accessToken|refreshToken|accessTokenExpiresAt|refreshTokenExpiresAt|requestId|traceId|time|durationMs|at)":("[^"]*"|[\d.]+)/g;
const normalise = (text: string) => text.replace(varyingJson, '"$1":"<varies>"');
// Headers that differ by connection or time, or that only yoga writes (CORS).
const ignoredHeaders = /^(date|x-request-id|content-length|connection|keep-alive|access-control-.*|vary)$/;
const metricLine = /^(graphql_|gateway_|circle_|upstream_)/;
const ignoredMetric = /(_bucket|_sum)\{|^gateway_hot_path_requests_total|_bucket |_sum /;

class Door {
  private constructor(readonly stack: Stack) {}

  static async open(door: 'front' | 'yoga', options: StackOptions): Promise<Door> {
    return new Door(await startStack({ ...options, metrics: true, transport: 'socket', door }));
  }

  private async metricLines(): Promise<string[]> {
    const text = (await this.stack.metrics?.registry.metrics()) ?? '';
    return text.split('\n').filter((line) => metricLine.test(line) && !ignoredMetric.test(line));
  }

  async send(request: Sent): Promise<Seen> {
    const { stack } = this;
    const metricsBefore = new Set(await this.metricLines());
    const callsBefore = { ...stack.sandbox.stats().calls };
    stack.logLines.length = 0;
    stack.auditLines.length = 0;
    const response = await stack.fetch(request.path ?? '/graphql', {
      method: request.method ?? 'POST',
      headers: {
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    });
    const body = normalise(await response.text());
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!ignoredHeaders.test(name)) headers[name] = value;
    });
    const calls = stack.sandbox.stats().calls;
    const upstreamCalls = Object.fromEntries(
      Object.entries(calls).map(([endpoint, count]) => [
        endpoint,
        count - (callsBefore[endpoint as keyof typeof calls] ?? 0),
      ]),
    );
    return {
      status: response.status,
      headers,
      body,
      upstreamCalls,
      // yoga's own debug chatter (`yoga`) is about its steps, not the request.
      log: stack.logLines.filter((line) => !line.includes('"yoga":')).map(normalise),
      audit: stack.auditLines.map(normalise),
      metrics: (await this.metricLines()).filter((line) => !metricsBefore.has(line)),
    };
  }

  close(): Promise<void> {
    return this.stack.close();
  }
}

function describeDoors(
  title: string,
  options: StackOptions,
  cases: [name: string, request: () => Promise<Sent> | Sent, expected?: Partial<Seen>][],
) {
  describe(title, () => {
    let front: Door;
    let yoga: Door;
    beforeAll(async () => {
      [front, yoga] = await Promise.all([Door.open('front', options), Door.open('yoga', options)]);
    });
    afterAll(async () => {
      await Promise.all([front.close(), yoga.close()]);
    });

    // In order: each case's state (limits, caches, jit) is the one the cases before left.
    for (const [name, request, expected] of cases) {
      it(name, async () => {
        const sent = await request();
        const onFront = await front.send(sent);
        const onYoga = await yoga.send(sent);
        expect(onFront).toEqual(onYoga);
        if (expected) expect(onFront).toMatchObject(expected);
      });
    }
  });
}

const backend = { 'x-api-key': apiKey, accept: 'application/json' };
const graphqlResponse = { 'x-api-key': apiKey, accept: 'application/graphql-response+json' };
const variableQuery = `query Token($value: String!) { memberToken(by: EMAIL, value: $value) { ${memberTokenFields} } }`;
const twoOperations = `query A { memberToken(by: EMAIL, value: "ada@example.com") { __typename } }
query B { memberToken(by: EMAIL, value: "grace@example.com") { __typename } }`;

describeDoors(
  'backends, members, strangers and refusals',
  {
    gateway: {
      openAccess: false,
      corsOrigins: ['https://app.example.test'],
      auth: { apiKeys: new Map([['billing', apiKey]]), jwt: testJwt },
      rateLimits: { ...testRateLimits, perCallerPerMinute: 12 },
    },
  },
  [
    [
      'a backend’s token request, on its first run (graphql-js)',
      () => ({ headers: backend, body: { query: tokenQuery } }),
      { status: 200, upstreamCalls: { authToken: 1, refresh: 0, revokeRefresh: 0, revokeAccess: 0 } },
    ],
    ['the same, on its second run (compiled)', () => ({ headers: backend, body: { query: tokenQuery } })],
    [
      'a member JWT asking for itself',
      async () => ({
        headers: {
          authorization: `Bearer ${await signMemberJwt({ email: 'grace@example.com', email_verified: true }, 'sso-grace')}`,
          accept: 'application/json',
        },
        body: { query: tokenQuery.replace('ada@', 'grace@') },
      }),
      { status: 200 },
    ],
    [
      'a member JWT asking for someone else (FORBIDDEN)',
      async () => ({
        headers: {
          authorization: `Bearer ${await signMemberJwt({ email: 'grace@example.com', email_verified: true }, 'sso-grace')}`,
        },
        body: { query: tokenQuery },
      }),
    ],
    ['an anonymous caller', () => ({ headers: { accept: 'application/json' }, body: { query: tokenQuery } })],
    [
      'a wrong API key (401)',
      () => ({ headers: { 'x-api-key': 'wrong-key-0123456789abcdef' }, body: { query: tokenQuery } }),
      { status: 401 },
    ],
    [
      'a syntax error, answered in application/json (200, as GraphQL over HTTP allows there)',
      () => ({ headers: backend, body: { query: '{ memberToken(' } }),
      { status: 200 },
    ],
    [
      'a syntax error, answered in application/graphql-response+json (400)',
      () => ({ headers: graphqlResponse, body: { query: '{ memberToken(' } }),
      { status: 400 },
    ],
    [
      'a field that does not exist',
      () => ({ headers: graphqlResponse, body: { query: '{ nothing }' } }),
      { status: 400 },
    ],
    [
      'a variable of the wrong type, first run',
      () => ({ headers: graphqlResponse, body: { query: variableQuery, variables: { value: 7 } } }),
      { status: 400 },
    ],
    [
      'a variable of the wrong type, second run',
      () => ({ headers: graphqlResponse, body: { query: variableQuery, variables: { value: 7 } } }),
    ],
    [
      'a variable missing, third run',
      () => ({ headers: backend, body: { query: variableQuery, variables: {} } }),
    ],
    [
      'the right variable, fourth run (compiled)',
      () => ({ headers: backend, body: { query: variableQuery, variables: { value: 'ada@example.com' } } }),
    ],
    [
      'two operations, B asked for',
      () => ({ headers: backend, body: { query: twoOperations, operationName: 'B' } }),
    ],
    [
      'two operations, B asked for again',
      () => ({ headers: backend, body: { query: twoOperations, operationName: 'B' } }),
    ],
    [
      'two operations, none asked for (400)',
      () => ({ headers: backend, body: { query: twoOperations } }),
      { status: 400 },
    ],
    [
      'operationName "" for a one-operation document',
      () => ({ headers: backend, body: { query: tokenQuery, operationName: '' } }),
    ],
    [
      'Content-Type Application/JSON (415 on both, as yoga matches media types)',
      () => ({
        headers: { ...backend, 'content-type': 'Application/JSON' },
        body: { query: tokenQuery },
      }),
      { status: 415 },
    ],
    [
      'a GET for introspection (handed to yoga)',
      () => ({ method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: backend }),
      { status: 200 },
    ],
    [
      'a CORS preflight (handed to yoga)',
      () => ({
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.test',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-api-key',
        },
      }),
      { status: 204 },
    ],
    [
      'a POST with an Origin (handed to yoga)',
      () => ({ headers: { ...backend, origin: 'https://app.example.test' }, body: { query: tokenQuery } }),
      { status: 200 },
    ],
    ['the caller’s limit reached (RATE_LIMITED)', () => ({ headers: backend, body: { query: tokenQuery } })],
  ],
);

describeDoors(
  'trusted documents',
  {
    gateway: {
      openAccess: false,
      auth: { apiKeys: new Map([['billing', apiKey]]), jwt: testJwt },
      trustedDocuments: loadTrustedDocuments(manifest.pathname),
    },
  },
  [
    ['a backend’s own document', () => ({ headers: backend, body: { query: tokenQuery } }), { status: 200 }],
    [
      'a member’s document text (refused)',
      async () => ({
        headers: {
          authorization: `Bearer ${await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada')}`,
        },
        body: { query: tokenQuery },
      }),
    ],
    [
      'a documentId not in the manifest (handed to yoga)',
      () => ({ headers: backend, body: { documentId: 'sha256:0000' } }),
    ],
  ],
);

describeDoors(
  'sessions (SESSIONS=required)',
  {
    gateway: {
      openAccess: false,
      corsOrigins: ['https://app.example.test'],
      auth: { apiKeys: new Map([['billing', apiKey]]), jwt: testJwt },
      sessions: {
        mode: 'required',
        cookieName: '__Host-circle-session',
        refreshMarginS: 300,
        idleTimeoutS: 86_400,
        maxAgeS: 604_800,
        sweepIntervalS: 3600,
      },
    },
  },
  [
    [
      'startSession from a member JWT without the browser rules (FORBIDDEN, nothing minted)',
      async () => ({
        headers: {
          authorization: `Bearer ${await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada')}`,
          accept: 'application/json',
        },
        body: { query: 'mutation { startSession { __typename ... on Error { code message } } }' },
      }),
      { status: 200, upstreamCalls: { authToken: 0, refresh: 0, revokeRefresh: 0, revokeAccess: 0 } },
    ],
    [
      'a member JWT asking for its own refresh token (FORBIDDEN naming startSession)',
      async () => ({
        headers: {
          authorization: `Bearer ${await signMemberJwt({ email: 'ada@example.com', email_verified: true }, 'sso-ada')}`,
        },
        body: { query: tokenQuery },
      }),
      { status: 200 },
    ],
    [
      'a backend’s token request (unaffected)',
      () => ({ headers: backend, body: { query: tokenQuery } }),
      { status: 200 },
    ],
    [
      'a wrong API key (401, auth.refused audited)',
      () => ({ headers: { 'x-api-key': `${apiKey}x` }, body: { query: tokenQuery } }),
      { status: 401 },
    ],
  ],
);
