import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { maskError, processRegularResult } from 'graphql-yoga';
import type { Authenticate } from '../auth/callers.js';
import type { Caller, GraphQLObserver, HeaderReader, RequestLike } from '../domain/types.js';
import { infoLineWriter, type Logger } from '../logger.js';
import { boundedDocumentCache } from '../plugins/document-cache.js';
import { answeredMediaType } from '../plugins/media-types.js';
import { beginAccessRecord, noteOperationName, writeAccessLine } from '../plugins/use-access-log.js';
import { handOverVerdict, rememberCaller } from '../plugins/use-caller-authentication.js';
import { logAndTagErrors } from '../plugins/use-error-logging.js';
import { requestIdOf } from '../plugins/use-request-id.js';
import { beginRequestTrace, endRequestTrace, traceOperation } from '../plugins/use-tracing.js';

/**
 * The hot path: the gateway's common request (a backend POSTing a GraphQL document as JSON) answered
 * straight from node:http, without yoga's Fetch API objects or envelop's per-request hook chain,
 * through the same parts yoga's path uses: caller authentication (first, before anything is parsed),
 * yoga's own envelop `parse` and `validate` (so every plugin's parse and validate hooks run:
 * graphql-armor's limits, the introspection and suggestion rules, the subscription refusal, and
 * yoga's parse and validation caches), the context factory (limits, loaders, audit), graphql-js on a
 * document's first run and graphql-jit from its second, the error logging, yoga's own error masking
 * and result serialization, request id, no-store, the access log, the trace span and the GraphQL
 * metrics. A document that passed is kept (bounded as yoga's parse cache), so its next run skips
 * parsing and validation.
 *
 * Anything else, and anything in doubt, is handed to yoga with its body as read, and yoga answers it
 * exactly as before: another method, path or media type; an `Origin` header (CORS); `extensions` or
 * a `documentId`; a caller that fails authentication; a member-JWT or anonymous caller when trusted
 * documents are configured; a document yoga's envelop refuses; an operation name that names nothing.
 */
export interface HotPathOptions {
  schema: GraphQLSchema;
  authenticate: Authenticate;
  /** Compile a document with graphql-jit on its second run; false runs every document on graphql-js. */
  jit: boolean;
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

/** What the hot path uses of yoga's envelop: its parse and validate, every plugin's hooks included. */
export type Enveloped = (context: { request: RequestLike; params: Params }) => {
  parse(source: string): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  schema: GraphQLSchema;
};

export interface HotPath {
  /** A node:http listener: serves what it can, hands the rest to `yoga`. */
  listener(yoga: NodeListener, enveloped: Enveloped): NodeListener;
}

interface Prepared {
  operation: OperationDefinitionNode;
  /** Runs so far: the first runs on graphql-js, the second compiles (graphql-jit). */
  runs: number;
  /** `null` if graphql-jit cannot compile it: then graphql-js runs it. */
  compiled?: CompiledQuery | null;
}

interface Admitted {
  document: DocumentNode;
  /** By operation name (`=name`), or `undefined` for none. */
  operations: Map<string | undefined, Prepared | null>;
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
/** `answeredMediaType`, remembered for the few Accept headers clients send. */
const acceptCache = new Map<string, string | null>();
function mediaTypeFor(accept: string | undefined): string | undefined {
  const key = accept ?? '';
  let type = acceptCache.get(key);
  if (type === undefined) {
    type = answeredMediaType(accept) ?? null;
    if (acceptCache.size < 100) acceptCache.set(key, type);
  }
  return type ?? undefined;
}

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

export interface Params {
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
  const writeAccess = infoLineWriter(logger);
  // Same bounds as yoga's parse cache: a few small documents sent again and again.
  const admitted = boundedDocumentCache<Admitted>();

  /**
   * The document of `text`, parsed and validated by yoga's envelop (graphql-armor's limits, the
   * introspection and suggestion rules, the subscription refusal: every plugin's parse and validate
   * hooks, and yoga's parse and validation caches), kept for the next run; `undefined` when yoga
   * would refuse it, to let yoga say why.
   */
  function admit(text: string, enveloped: ReturnType<Enveloped>): Admitted | undefined {
    let entry = admitted.get(text);
    if (entry) return entry;
    let document: DocumentNode;
    try {
      // A plugin may refuse by throwing (graphql-armor's depth limit does) as well as by returning errors.
      document = enveloped.parse(text);
      if (enveloped.validate(enveloped.schema, document).length > 0) return undefined;
    } catch {
      return undefined;
    }
    entry = { document, operations: new Map() };
    admitted.set(text, entry);
    return entry;
  }

  function prepare(entry: Admitted, operationName: string | undefined): Prepared | null {
    // `""` is a name that names nothing (graphql-js refuses it); no name picks the only operation:
    // they must never share an entry.
    const key = operationName === undefined ? undefined : `=${operationName}`;
    let prepared = entry.operations.get(key);
    if (prepared === undefined) {
      const operation = getOperationAST(entry.document, operationName);
      prepared = operation && operation.operation !== 'subscription' ? { operation, runs: 0 } : null;
      entry.operations.set(key, prepared);
    }
    return prepared;
  }

  /** The media type the hot path answers `req` in, or `undefined` when it leaves `req` to yoga. */
  function servedMediaType(req: IncomingMessage): string | undefined {
    if (req.method !== 'POST' || req.url !== '/graphql') return undefined;
    const { headers } = req;
    if (headers.origin !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
    if (!jsonTypes.has((headers['content-type'] ?? '').toLowerCase())) return undefined;
    const mediaType = mediaTypeFor(headers.accept);
    if (mediaType === undefined) return undefined;
    const length = headers['content-length'];
    if (length === undefined || !/^\d{1,9}$/.test(length)) return undefined;
    const bytes = Number(length);
    return bytes > 0 && bytes <= options.maxBodyBytes ? mediaType : undefined;
  }

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    started: number,
    handOver: () => void,
    enveloped: Enveloped,
    mediaType: string,
  ): Promise<void> {
    let params: unknown;
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      return handOver();
    }
    if (!plainParams(params)) return handOver();
    const operationName = params.operationName ?? undefined;
    const request = new NodeRequest(req);
    // Authenticated before anything is parsed, as on yoga's path.
    let caller: Caller;
    try {
      caller = await options.authenticate(request.headers, req.socket.remoteAddress);
    } catch (error) {
      handOverVerdict(req, error as Error);
      return handOver(); // yoga answers 401 or 503 with this verdict, without authenticating again
    }
    // Handed over from here on, yoga takes this caller as it is.
    const handOverAs = () => {
      handOverVerdict(req, caller);
      handOver();
    };
    if (options.backendsOnly && caller.kind !== 'backend' && !options.openAccess) return handOverAs();
    const entry = admit(params.query, enveloped({ request, params }));
    const prepared = entry && prepare(entry, operationName);
    if (!entry || !prepared) return handOverAs();
    // graphql-jit pays for itself only on a document that runs again: compiled on its second run.
    prepared.runs += 1;
    if (prepared.runs >= 2 && prepared.compiled === undefined && options.jit) {
      const compiled = compileQuery(schema, entry.document, operationName);
      prepared.compiled = isCompiledQuery(compiled) ? compiled : null;
    }

    rememberCaller(request, caller, options.openAccess);
    const requestId = requestIdOf(request);
    beginAccessRecord(request, started);
    beginRequestTrace(request);
    const { operation, compiled } = prepared;
    const { document } = entry;
    noteOperationName(request, operation.name?.value);
    traceOperation(request, operation);
    graphql?.executed(operation.operation);

    let result: ExecutionResult;
    try {
      const contextValue = { ...(await options.context({ request })), request, params };
      try {
        result = compiled
          ? await compiled.query(undefined, contextValue, params.variables ?? {})
          : await execute({
              schema,
              document,
              contextValue,
              variableValues: params.variables ?? {},
              operationName,
            });
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
    writeAccessLine(writeAccess, request, status);
    endRequestTrace(request, status);
  }

  return {
    listener(yoga, enveloped) {
      return (req, res) => {
        const mediaType = servedMediaType(req);
        if (mediaType === undefined) return yoga(req, res);
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
          serve(req, res, body, started, handOver, enveloped, mediaType).catch((error: unknown) => {
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
  };
}
