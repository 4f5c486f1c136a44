import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auditEmailHash, createAuditLog } from '../../src/audit/index.js';
import type { CallerAuthentication } from '../../src/auth/callers.js';
import { type ClientOptions, createClient } from '../../src/client/sdk.js';
import type { Upstream } from '../../src/client/upstream.js';
import type { DocumentLimitsConfig, RateLimitsConfig } from '../../src/config/load.js';
import { createLogger, type EmailHasher } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics/index.js';
import { assignRequestIds } from '../../src/request/id.js';
import { ManualClock, type SandboxOptions, startSandbox } from '../../src/sandbox/server.js';
import { createGateway, type GatewayOptions } from '../../src/server.js';
import type { SessionStore } from '../../src/sessions/index.js';

/** The production document limits. */
export const testDocumentLimits: DocumentLimitsConfig = {
  maxDepth: 10,
  maxAliases: 50,
  maxTokens: 2000,
  maxDirectives: 10,
  maxCost: 5000,
};

/** Rate limits and the Circle budget out of the way unless a test sets them. */
export const testRateLimits: RateLimitsConfig = {
  perCallerPerMinute: 100_000,
  perAnonymousCallerPerMinute: 100_000,
  perMemberPerMinute: 100_000,
  anonymousBudgetPercent: 10,
  circleBudgetPer5Min: 0,
  replicas: 1,
};

export interface StackOptions {
  sandbox?: SandboxOptions;
  gateway?: Partial<GatewayOptions>;
  client?: Partial<ClientOptions>;
  /**
   * Changes what the gateway gets as its client. Only for faults no HTTP answer can cause (a bug
   * below the gateway), to test how the gateway contains them; upstream answers are faked at HTTP.
   */
  upstream?: (client: Upstream) => Upstream;
  /** Caller authentication as main hands it over (the seam `SIGHUP` reloads through). */
  callers?: CallerAuthentication;
  /** Prometheus metrics, wired as main wires them (the client reports its attempts to them). */
  metrics?: boolean;
  /** How `post` and `get` reach the gateway: a loopback socket (default) or `gateway.fetch`. */
  transport?: 'socket' | 'fetch';
  /**
   * Which door the socket serves through: the front door and yoga behind it, as main serves
   * (default), or yoga's request listener alone (to compare the two doors request by request).
   */
  door?: 'front' | 'yoga';
  /** Spans for each request (main does this when traces are exported); the test registers a provider. */
  tracing?: boolean;
  /** Where sessions are kept (a Redis store); default this process's memory. */
  sessionStore?: SessionStore;
}

/** The audit trail's lines, as written (JSON lines). */
export type AuditLines = string[];

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, Record<string, unknown>> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    extensions?: Record<string, unknown>;
  };
  text: string;
}

/**
 * The real parts wired together as in main: the sandbox on a loopback port, the undici client, the
 * gateway (called through `gateway.fetch`, no socket), and a logger whose lines are kept for checks.
 */
export async function startStack(options: StackOptions = {}) {
  const clock = new ManualClock();
  const sandbox = await startSandbox({ clock, ...options.sandbox });
  const logLines: string[] = [];
  const emails: EmailHasher = {};
  const logger = createLogger('debug', { write: (line: string) => void logLines.push(line) }, emails);
  const metrics = options.metrics ? createMetrics() : undefined;
  const auditLines: AuditLines = [];
  const audit = createAuditLog({
    appToken: sandbox.appToken,
    destination: { write: (line: string) => void auditLines.push(line) },
  });
  emails.hash = auditEmailHash(audit);
  const client = createClient({
    ...(metrics ? { observer: metrics.upstream } : {}),
    appToken: sandbox.appToken,
    baseURL: sandbox.url,
    revokeBaseDelayMs: 1,
    headersTimeoutMs: 2000,
    ...options.client,
  });
  const gateway = createGateway(
    {
      graphiql: true,
      introspection: true,
      upstreamConcurrency: 8,
      maxUpstreamCallsPerOperation: 50,
      maxEntityRepresentations: 100,
      maxRequestBodyBytes: 100_000,
      corsOrigins: [],
      openAccess: true,
      auth: { apiKeys: new Map() },
      documentLimits: testDocumentLimits,
      rateLimits: testRateLimits,
      ...options.gateway,
    },
    {
      client: options.upstream ? options.upstream(client) : client,
      ...(options.callers ? { callers: options.callers } : {}),
      logger,
      ...(metrics ? { metrics } : {}),
      audit,
      exampleMember: { email: 'ada@example.com', id: 1, ssoId: 'sso-ada' },
      ...(options.tracing ? { tracing: true } : {}),
      // Sessions judge expiry by the sandbox's clock, which tests move forward.
      now: () => clock.now(),
      ...(options.sessionStore
        ? { sessions: { store: options.sessionStore, appToken: sandbox.appToken } }
        : {}),
    },
  );

  // The production transport: node:http on a loopback port, as main.ts serves (the front door, then
  // yoga); TEST_TRANSPORT=fetch sends through `gateway.fetch` (yoga's path alone) instead.
  const transport = options.transport ?? (process.env.TEST_TRANSPORT === 'fetch' ? 'fetch' : 'socket');
  let server: Server | undefined;
  let origin = 'http://gateway';
  if (transport === 'socket') {
    const door =
      options.door === 'yoga'
        ? (req: IncomingMessage, res: ServerResponse) => void gateway.requestListener(req, res)
        : gateway.nodeListener;
    server = createServer(assignRequestIds(door));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const send = async (url: string, init: RequestInit): Promise<Response> =>
    server ? fetch(`${origin}${url}`, init) : gateway.fetch(`${origin}${url}`, init);

  async function post(
    query: string,
    variables?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<GraphQLResponse> {
    const response = await send('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
  }

  async function get(query: string, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
    const response = await send(`/graphql?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'application/json', ...headers },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
  }

  return {
    sandbox,
    clock,
    client,
    gateway,
    metrics,
    audit,
    auditLines,
    logLines,
    post,
    get,
    transport,
    /** A request to `path` over the stack's transport. */
    fetch: send,
    async close() {
      gateway.stop();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      await client.close();
      await sandbox.close();
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * One of a gateway's doors on a loopback port of its own, request ids assigned as main assigns
 * them: `gateway.nodeListener` (the front door, yoga behind it) or yoga's `requestListener` alone,
 * so that one gateway can be reached both ways.
 */
export function listenOn(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(assignRequestIds(listener));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export const memberTokenFields = `
  __typename
  ... on MemberToken { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt communityMemberId communityId }
  ... on Error { code message }
  ... on InvalidInput { argument }
  ... on RateLimited { retryAfterSeconds }
`;
export const accessTokenFields = `
  __typename
  ... on AccessToken { accessToken accessTokenExpiresAt }
  ... on Error { code message }
  ... on InvalidInput { argument }
  ... on RateLimited { retryAfterSeconds }
`;
export const revokedFields = `
  __typename
  ... on TokenRevoked { revoked }
  ... on Error { code message }
  ... on RateLimited { retryAfterSeconds }
`;
