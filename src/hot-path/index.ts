import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { maskError, type Plugin, processRegularResult } from 'graphql-yoga';
import type { Authenticate } from '../auth/callers.js';
import type { Caller, GraphQLObserver, HeaderReader, RequestLike } from '../domain/types.js';
import { fixedFieldLogger, type Logger } from '../logger.js';
import { boundedDocumentCache } from '../plugins/document-cache.js';
import { beginAccessRecord, noteOperationName, writeAccessLine } from '../plugins/use-access-log.js';
import { rememberCaller } from '../plugins/use-caller-authentication.js';
import { logAndTagErrors } from '../plugins/use-error-logging.js';
import { requestIdOf } from '../plugins/use-request-id.js';
import { beginRequestTrace, endRequestTrace, traceOperation } from '../plugins/use-tracing.js';

/**
 * The hot path: the gateway's one common request (a backend POSTing, as JSON, a document it has sent
 * before) answered straight from node:http, without yoga's Fetch API objects, envelop's hook chain or
 * a parse, a validation or a compilation, through the same parts yoga's path uses: caller
 * authentication, the context factory (limits, loaders, audit), graphql-jit's compiled query, the
 * error logging, yoga's own error masking and result serialization, request id, no-store, the access
 * log, the trace span and the GraphQL metrics.
 *
 * Yoga admits documents (`admission()`): a document enters the hot path only after yoga has parsed,
 * validated (graphql-armor's limits, introspection and suggestion rules included) and begun to run
 * it, so every check that depends on the document alone has passed. Anything else, and anything in
 * doubt (another method, path, media type, an `Origin` header for CORS, `extensions` or a
 * `documentId`, a caller that fails authentication, a member-JWT or anonymous caller when trusted
 * documents are configured, a document not admitted, an operation name that names nothing), is
 * handed to yoga with its body as read: yoga answers it exactly as before.
 */
export interface HotPathOptions {
  schema: GraphQLSchema;
  authenticate: Authenticate;
  /** Sandbox mode without caller authentication: an anonymous caller acts as a backend. */
  openAccess: boolean;
  /** Trusted documents are configured: only backends may send a document's text. */
  backendsOnly: boolean;
  maxBodyBytes: number;
  /** The context factory yoga's path uses. */
  context(init: { request: RequestLike }): Promise<object>;
  /** Lets go of what the schema's plugins cached for a context, once it has been executed. */
  release(context: object): void;
  logger: Logger;
  /** yoga's logger adapter: where masked errors are reported, as yoga reports them. */
  yogaLogger: { error(...args: unknown[]): void };
  graphql?: GraphQLObserver;
}

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface HotPath {
  /** A node:http listener: serves what it can, hands the rest to `yoga`. */
  listener(yoga: NodeListener): NodeListener;
  /** The yoga plugin that admits documents yoga has validated and is executing. */
  admission(): Plugin;
}

interface Prepared {
  operation: OperationDefinitionNode;
  /** Compiled on the document's first run here (its second run in all); `null` if it cannot be. */
  compiled?: CompiledQuery | null;
}

interface Admitted {
  document: DocumentNode;
  operations: Map<string, Prepared | null>;
}

/** What yoga's result processor needs of a Fetch Response: the body and init, kept as they are. */
class Answer {
  constructor(
    readonly body: string,
    readonly init: { status?: number; headers?: Record<string, string> },
  ) {}
}
const answerApi = { Response: Answer } as unknown as Parameters<typeof processRegularResult>[1];

const jsonTypes = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
]);
// The media type yoga answers for each Accept header served here (its result processors' order).
const answeredAs: Record<string, string> = {
  '': 'application/json',
  '*/*': 'application/json',
  'application/json': 'application/json',
  'application/graphql-response+json': 'application/graphql-response+json',
};

/** node:http's headers as the gateway's records read them. */
class NodeHeaders implements HeaderReader {
  constructor(private readonly raw: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
}

class NodeRequest implements RequestLike {
  readonly method = 'POST';
  readonly headers: NodeHeaders;
  constructor(private readonly req: IncomingMessage) {
    this.headers = new NodeHeaders(req.headers);
  }
  get url(): string {
    return `http://${this.req.headers.host ?? 'localhost'}${this.req.url ?? '/'}`;
  }
}

interface Params {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** Only `query`, `variables` and `operationName`, of the right types: nothing yoga would read more into. */
function plainParams(value: unknown): value is Params {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if (key === 'query') {
      if (typeof field !== 'string') return false;
    } else if (key === 'variables') {
      if (field !== null && (typeof field !== 'object' || Array.isArray(field))) return false;
    } else if (key === 'operationName') {
      if (field !== null && typeof field !== 'string') return false;
    } else return false;
  }
  return typeof (value as { query?: unknown }).query === 'string';
}

export function createHotPath(options: HotPathOptions): HotPath {
  const { schema, logger, graphql } = options;
  const accessLogger = fixedFieldLogger(logger);
  // Same bounds as yoga's parse cache: a few small documents sent again and again.
  const admitted = boundedDocumentCache<Admitted>();

  function prepare(text: string, operationName: string | undefined): Prepared | null | undefined {
    const entry = admitted.get(text);
    if (!entry) return undefined;
    const key = operationName ?? '';
    let prepared = entry.operations.get(key);
    if (prepared === undefined) {
      const operation = getOperationAST(entry.document, operationName);
      prepared = operation && operation.operation !== 'subscription' ? { operation } : null;
      entry.operations.set(key, prepared);
    }
    if (prepared && prepared.compiled === undefined) {
      const compiled = compileQuery(schema, entry.document, operationName);
      prepared.compiled = isCompiledQuery(compiled) ? compiled : null;
    }
    return prepared?.compiled ? prepared : null;
  }

  function eligible(req: IncomingMessage): boolean {
    if (req.method !== 'POST' || req.url !== '/graphql') return false;
    const { headers } = req;
    if (headers.origin !== undefined || headers['transfer-encoding'] !== undefined) return false;
    if (!jsonTypes.has((headers['content-type'] ?? '').toLowerCase())) return false;
    if (answeredAs[headers.accept ?? ''] === undefined) return false;
    const length = headers['content-length'];
    if (length === undefined || !/^\d{1,9}$/.test(length)) return false;
    const bytes = Number(length);
    return bytes > 0 && bytes <= options.maxBodyBytes;
  }

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    started: number,
    handOver: () => void,
  ): Promise<void> {
    let params: unknown;
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      return handOver();
    }
    if (!plainParams(params)) return handOver();
    const operationName = params.operationName ?? undefined;
    const prepared = prepare(params.query, operationName);
    if (!prepared?.compiled) return handOver();
    const request = new NodeRequest(req);
    let caller: Caller;
    try {
      caller = await options.authenticate(request.headers, req.socket.remoteAddress);
    } catch {
      return handOver(); // yoga answers 401 or 503 as it always has
    }
    if (options.backendsOnly && caller.kind !== 'backend' && !options.openAccess) return handOver();

    rememberCaller(request, caller, options.openAccess);
    const requestId = requestIdOf(request);
    beginAccessRecord(request, started);
    beginRequestTrace(request);
    const { operation, compiled } = prepared;
    noteOperationName(request, operation.name?.value);
    traceOperation(request, operation);
    graphql?.executed(operation.operation);

    let result: ExecutionResult;
    try {
      const contextValue = { ...(await options.context({ request })), request, params };
      try {
        result = await compiled.query(undefined, contextValue, params.variables ?? {});
      } finally {
        options.release(contextValue);
      }
    } catch (error) {
      // A fault of the gateway's own (yoga's path masks the same as a 500).
      result = { errors: [error as GraphQLError] };
    }
    if (result.errors?.length) {
      const stringify = (result as { stringify?: unknown }).stringify;
      result = logAndTagErrors(logger, result, requestId);
      result = {
        ...result,
        errors: result.errors?.map((error) => {
          const masked = maskError(error, 'Unexpected error.', false) as GraphQLError;
          if (masked !== error) options.yogaLogger.error(error);
          return masked;
        }),
        ...(stringify ? { stringify } : {}),
      } as ExecutionResult;
      graphql?.errorResult(operation.operation, 'execute');
    }
    const mediaType = answeredAs[req.headers.accept ?? ''] as string;
    const answer = processRegularResult(result, answerApi, mediaType) as unknown as Answer;
    const status = answer.init.status ?? 200;
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(answer.init.headers ?? {}))
      headers[name.toLowerCase()] = value;
    headers['content-length'] = Buffer.byteLength(answer.body);
    headers['x-request-id'] = requestId;
    headers['cache-control'] = 'no-store';
    res.writeHead(status, headers);
    res.end(answer.body);
    graphql?.hotPath('served');
    graphql?.answered(operation.operation, 'POST', status, (performance.now() - started) / 1000);
    writeAccessLine(accessLogger, request, status);
    endRequestTrace(request, status);
  }

  return {
    listener(yoga) {
      return (req, res) => {
        if (!eligible(req)) return yoga(req, res);
        const started = performance.now();
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.once('error', () => res.destroy());
        req.once('end', () => {
          const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          // yoga's node adapter reads a body already read from `req.body` (@whatwg-node/server).
          const handOver = () => {
            graphql?.hotPath('handed_over');
            (req as IncomingMessage & { body?: Buffer }).body = body;
            yoga(req, res);
          };
          serve(req, res, body, started, handOver).catch((error: unknown) => {
            logger.error(
              { err: { name: (error as Error).name, message: (error as Error).message } },
              'hot path failed',
            );
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
            res.end();
          });
        });
      };
    },
    admission() {
      return {
        onExecute({ args }) {
          const { params, request } = args.contextValue as {
            params?: { query?: unknown };
            request?: Request;
          };
          if (request?.method !== 'POST' || typeof params?.query !== 'string') return;
          if (!admitted.has(params.query))
            admitted.set(params.query, { document: args.document, operations: new Map() });
        },
      };
    },
  };
}
