import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

/**
 * A document of several operations runs the one asked for, on every run and on both doors, even
 * once graphql-jit has compiled the document for another of its operations.
 */
const apiKey = 'k-operation-selection-0123456789';
const key = { 'x-api-key': apiKey };
const document =
  'query A { memberToken(by: ID, value: "1") { ... on MemberToken { accessToken } } } query B { __typename }';

let stack: Stack;
let server: Server;
let url: string;
beforeAll(async () => {
  stack = await startStack({ gateway: { openAccess: false, auth: { apiKeys: new Map([['svc', apiKey]]) } } });
  server = createServer(stack.gateway.nodeListener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
beforeEach(() => stack.sandbox.resetStats());
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await stack.close();
});

type Door = (
  operationName: string,
  extra?: Record<string, string>,
) => Promise<{ status: number; body: unknown }>;

const viaYoga: Door = async (operationName) => {
  const response = await stack.gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...key },
    body: JSON.stringify({ query: document, operationName }),
  });
  return { status: response.status, body: await response.json() };
};
const viaFrontDoor: Door = async (operationName, extra = {}) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...key, ...extra },
    body: JSON.stringify({ query: document, operationName }),
  });
  return { status: response.status, body: await response.json() };
};
// An Origin header sends the same request to yoga's path over the real socket.
const viaYogaOverHttp: Door = (operationName) => viaFrontDoor(operationName, { origin: 'http://127.0.0.1' });

describe('multi-operation documents run the operation asked for', () => {
  for (const [name, door] of [
    ['yoga (gateway.fetch)', viaYoga],
    ['the front door', viaFrontDoor],
    ['yoga over HTTP', viaYogaOverHttp],
  ] as const) {
    it(`${name}: B after A compiled runs B, mints nothing`, async () => {
      for (let run = 0; run < 3; run += 1) {
        const a = await door('A');
        expect(a.status).toBe(200);
        expect(a.body).toMatchObject({ data: { memberToken: { accessToken: expect.any(String) } } });
      }
      expect(stack.sandbox.stats().calls.authToken).toBe(3);
      const b = await door('B');
      expect(b).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
      expect(stack.sandbox.stats().calls.authToken).toBe(3);
    });
  }

  it('a GET naming B after A compiled answers B and carries no token', async () => {
    for (let run = 0; run < 2; run += 1) await viaYoga('A');
    stack.sandbox.resetStats();
    const response = await stack.gateway.fetch(
      `http://gateway/graphql?query=${encodeURIComponent(document)}&operationName=B`,
      { headers: { accept: 'application/json', ...key } },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(stack.sandbox.stats().calls.authToken).toBe(0);
  });
});
