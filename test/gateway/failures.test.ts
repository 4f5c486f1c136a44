import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOn, memberTokenFields, type Stack, startStack } from '../support/stack.js';

/**
 * A failure of the gateway's own (not an execution error a resolver answers): whichever door took
 * the request, it finishes through the request lifecycle, with a masked JSON body, the request id,
 * no-store, an access line, the duration metric and an ended span.
 */
const apiKey = 'failures-test-key-0123456789';
const query = `{ memberToken(by: EMAIL, value: "ada@example.com") { ${memberTokenFields} } }`;
const spans = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

let stack: Stack;
let front: Server;
let yoga: Server;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  stack = await startStack({
    metrics: true,
    tracing: true,
    gateway: { openAccess: false, auth: { apiKeys: new Map([['billing', apiKey]]) } },
    // A wiring bug below the gateway: building a request's context throws (no HTTP answer does this).
    upstream: (client) => ({
      ...client,
      get api(): typeof client.api {
        throw new Error('wiring bug near ada@example.com');
      },
    }),
  });
  front = await listenOn(stack.gateway.nodeListener);
  yoga = await listenOn((req, res) => void stack.gateway.requestListener(req, res));
});

afterAll(async () => {
  front.close();
  yoga.close();
  await stack.close();
  trace.disable();
  await provider.shutdown();
});

async function metricsText(): Promise<string> {
  if (!stack.metrics) throw new Error('the stack was started without metrics');
  return stack.metrics.registry.metrics();
}

async function send(server: Server) {
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('a failure on either door', () => {
  for (const door of ['front door', 'yoga'] as const) {
    it(`is answered through the lifecycle on the ${door}`, async () => {
      const doorCount = async () =>
        (await metricsText()).match(/gateway_hot_path_requests_total\{outcome="served"\} (\d+)/)?.[1];
      const servedBefore = await doorCount();
      stack.logLines.length = 0;
      spans.reset();
      const answer = await send(door === 'front door' ? front : yoga);

      expect(answer.status).toBe(500);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(JSON.parse(answer.text)).toEqual({
        errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      const requestId = answer.headers.get('x-request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers.get('cache-control')).toBe('no-store');

      const lines = stack.logLines.map((line) => JSON.parse(line));
      expect(lines.filter((line) => line.msg === 'request')).toEqual([
        expect.objectContaining({
          requestId,
          status: 500,
          path: '/graphql',
          caller: { kind: 'backend', name: 'billing' },
        }),
      ]);
      // The original error is logged (the email in it hashed by the log censor), never answered.
      const logged = lines.filter((line) => line.msg === 'unexpected error');
      expect(logged).toEqual([
        expect.objectContaining({ level: 50, requestId, err: expect.objectContaining({ name: 'Error' }) }),
      ]);
      expect(logged[0].err.message).toBe('wiring bug near [email]');
      expect(stack.logLines.join('\n')).not.toContain('ada@example.com');
      expect(answer.text).not.toContain('wiring bug');

      const [span] = spans.getFinishedSpans();
      expect(span?.attributes['http.response.status_code']).toBe(500);
      expect(span?.status.code).toBe(2); // ERROR
      const metrics = await metricsText();
      expect(metrics).toMatch(/graphql_yoga_http_duration_count\{[^}]*statusCode="500"[^}]*\} [1-9]/);
      // Which door answered is the one thing that differs.
      expect(Number(await doorCount()) - Number(servedBefore)).toBe(door === 'front door' ? 1 : 0);
    });
  }
});
