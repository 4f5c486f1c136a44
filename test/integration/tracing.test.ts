import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../bench/launch.js';

/**
 * Traces from a real gateway process to a real OTLP/HTTP receiver (a loopback server started here
 * that decodes what the exporter sends): the caller's traceparent is continued, each upstream
 * attempt is a child span, and no span holds a secret.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const apiKey = 'tracing-test-api-key-0123456789';
const received: unknown[] = [];
const auditFile = join(mkdtempSync(join(tmpdir(), 'cag-audit-')), 'audit.jsonl');
let receiver: Server;
let child: ChildProcess | undefined;
let stdout = '';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

function spans(): OtlpSpan[] {
  return received.flatMap((body) =>
    (
      (body as { resourceSpans?: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }).resourceSpans ?? []
    ).flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
  );
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') received.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  buildDist();
}, 60_000);

afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await new Promise((resolve) => receiver.close(resolve));
});

describe('OpenTelemetry traces', () => {
  it('continue the caller’s trace, with a child span per upstream attempt and no secret', async () => {
    const { port } = receiver.address() as AddressInfo;
    child = spawn(process.execPath, ['dist/main.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        METRICS_PORT: 'off',
        LOG_LEVEL: 'info',
        GATEWAY_API_KEYS: `tests:${apiKey}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        AUDIT_LOG_FILE: auditFile,
      },
    });
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    let url: string | undefined;
    for (let i = 0; i < 400 && !url; i++) {
      url = /GraphiQL: {2}(http:\/\/\S+\/graphql)/.exec(stdout)?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(url).toBeDefined();

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const response = await fetch(String(url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': apiKey,
        traceparent: `00-${traceId}-${parentId}-01`,
      },
      body: JSON.stringify({
        query:
          'query Lookup { memberToken(by: EMAIL, value: "ada@example.com") { ... on MemberToken { accessToken refreshToken } } }',
      }),
    });
    const token = (
      (await response.json()) as { data: { memberToken: { accessToken: string; refreshToken: string } } }
    ).data.memberToken;

    for (let i = 0; i < 200 && !spans().some((s) => s.name === 'circle authToken'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (let i = 0; i < 200 && !spans().some((s) => s.kind === 2); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const server = spans().find((s) => s.kind === 2); // SERVER
    const upstream = spans().find((s) => s.name === 'circle authToken');
    expect(server).toMatchObject({ traceId, parentSpanId: parentId, name: 'graphql query Lookup' });
    expect(upstream).toMatchObject({ traceId, parentSpanId: server?.spanId, kind: 3 }); // CLIENT
    const attributes = Object.fromEntries(
      (upstream?.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
    );
    expect(attributes).toMatchObject({
      'circle.endpoint': 'authToken',
      'http.request.method': 'POST',
      'circle.outcome': 'ok',
    });

    const everything = JSON.stringify(received);
    for (const secret of [
      token.accessToken,
      token.refreshToken,
      apiKey,
      'ada@example.com',
      'sandbox-app-token',
    ]) {
      expect(everything).not.toContain(secret);
    }
    // The access log line carries the same trace id (log lines are written out within a second).
    const accessLine = () =>
      stdout.split('\n').find((line) => line.includes('"msg":"request"') && line.includes('"status":200'));
    for (let waited = 0; !accessLine() && waited < 3000; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const access = accessLine();
    expect(access).toContain(`"traceId":"${traceId}"`);

    // The audit trail, buffered in AUDIT_LOG_FILE, is written out within a second while the gateway
    // runs (a quiet gateway's event is not held back), and whatever is left when it stops.
    const audited = () => existsSync(auditFile) && readFileSync(auditFile, 'utf8').includes('token.issued');
    for (let waited = 0; !audited() && waited < 3000; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(audited()).toBe(true);
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const audit = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit).toEqual([
      expect.objectContaining({ log: 'audit', event: 'token.issued', subject: { memberId: '1' }, traceId }),
    ]);
  });
});
