import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { isPromise, processRegularResult } from 'graphql-yoga';
import type { Authenticate } from '../auth/callers.js';
import type { Caller, GraphQLObserver, HeaderReader, RequestLike } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { handOverVerdict, rememberCaller } from '../request/caller.js';
import { boundedDocumentCache } from '../request/document-cache.js';
import type { RequestLifecycle } from '../request/lifecycle.js';
import { answeredMediaType } from '../request/media-types.js';

/**
 * The front door: the gateway's common request (a backend POSTing a GraphQL document as JSON)
 * framed straight from node:http, without yoga's Fetch API objects or its HTTP hook chain: method,
 * path, media types, length, body, and the caller (authenticated before anything is parsed). Below
 * the framing it runs yoga's own envelop pipeline, as yoga's `processRequest` does: `parse` and
 * `validate` (every plugin's hooks: graphql-armor's limits, the introspection and suggestion rules,
 * the subscription refusal; yoga's caches), `contextFactory` and `execute` (every plugin's execute
 * hooks: graphql-jit, the request lifecycle, yoga's masking), and walks the same request lifecycle
 * as yoga's path (request/lifecycle.ts: request id, no-store, span, access line, metrics, error
 * logging, release). Nothing that runs an operation or shapes an answer is written here twice.
 * A document that passed is kept (bounded as yoga's parse cache), so its next run skips parsing
 * and validation.
 *
 * Anything else, and anything in doubt, is handed to yoga with its body as read and the caller
 * as authenticated, and yoga answers it: another method, path or media type; an `Origin` header
 * (CORS); the session cookie; `extensions` or a `documentId`; a caller that fails authentication;
 * a member-JWT or anonymous caller when trusted documents are configured; a document yoga's envelop
 * refuses; an operation name that names nothing.
 */
export interface HotPathOptions {
  authenticate: Authenticate;
  /** Sandbox mode without caller authentication: an anonymous caller acts as a backend. */
  openAccess: boolean;
  /** Trusted documents are configured: only backends may send a document's text. */
  backendsOnly: boolean;
  /** Sessions are on: a request carrying this cookie goes to yoga unread (its rules run before the body). */
  sessionCookie?: string;
  maxBodyBytes: number;
  /** What every request gets at its start and end, on both doors. */
  lifecycle: RequestLifecycle;
  /** A failure's masked answer, as yoga gives it (`GraphQLError`s, the originals logged). */
  failure(error: unknown): GraphQLError[];
  logger: Logger;
  graphql?: GraphQLObserver;
}

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** What the front door uses of yoga's envelop: the whole pipeline, every plugin's hooks included. */
export type Enveloped = (context: { request: RequestLike; params: Params }) => {
  parse(source: string): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  contextFactory(): unknown;
  execute(args: ExecutionArgs): unknown;
  schema: GraphQLSchema;
};

export interface HotPath {
  /** A node:http listener: serves what it can, hands the rest to `yoga`. */
  listener(yoga: NodeListener, enveloped: Enveloped): NodeListener;
}

interface Admitted {
  document: DocumentNode;
  /** The operation each name picks, by `=name`, or `undefined` for none; `null` when yoga must answer. */
  operations: Map<string | undefined, OperationDefinitionNode | null>;
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
  /** The lifecycle has begun for it (the front door serves it rather than handing it over). */
  begun = false;
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
  const { logger, graphql, lifecycle, sessionCookie } = options;
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

  function operationOf(entry: Admitted, operationName: string | undefined): OperationDefinitionNode | null {
    // `""` is a name that names nothing (graphql-js refuses it); no name picks the only operation:
    // they must never share an entry.
    const key = operationName === undefined ? undefined : `=${operationName}`;
    let operation = entry.operations.get(key);
    if (operation === undefined) {
      const found = getOperationAST(entry.document, operationName);
      operation = found && found.operation !== 'subscription' ? found : null;
      entry.operations.set(key, operation);
    }
    return operation;
  }

  /** The media type the front door answers `req` in, or `undefined` when it leaves `req` to yoga. */
  function servedMediaType(req: IncomingMessage): string | undefined {
    if (req.method !== 'POST' || req.url !== '/graphql') return undefined;
    const { headers } = req;
    if (headers.origin !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
    if (sessionCookie !== undefined && headers.cookie?.includes(sessionCookie)) return undefined;
    if (!jsonTypes.has(headers['content-type'] ?? '')) return undefined;
    const mediaType = mediaTypeFor(headers.accept);
    if (mediaType === undefined) return undefined;
    const length = headers['content-length'];
    if (length === undefined || !/^\d{1,9}$/.test(length)) return undefined;
    const bytes = Number(length);
    return bytes > 0 && bytes <= options.maxBodyBytes ? mediaType : undefined;
  }

  /** Writes `result` as yoga's result processor would, stamped by the lifecycle, and ends it. */
  function answer(
    request: RequestLike,
    res: ServerResponse,
    result: ExecutionResult,
    mediaType: string,
  ): void {
    lifecycle.result(request, result);
    const answered = processRegularResult(result, answerApi, mediaType) as unknown as Answer;
    const status = answered.init.status ?? 200;
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(answered.init.headers ?? {}))
      headers[name.toLowerCase()] = value;
    headers['content-length'] = Buffer.byteLength(answered.body);
    lifecycle.headers(request, (name, value) => {
      headers[name] = value;
    });
    res.writeHead(status, headers);
    res.end(answered.body);
    lifecycle.end(request, status);
  }

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    request: NodeRequest,
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
    const pipeline = enveloped({ request, params });
    const entry = admit(params.query, pipeline);
    if (!entry || !operationOf(entry, operationName)) return handOverAs();

    rememberCaller(request, caller, { openAccess: options.openAccess });
    // Before the context: its loaders report their upstream calls to the record and run in the span.
    lifecycle.begin(request, started);
    request.begun = true;
    let result: ExecutionResult;
    try {
      // yoga's context factory answers synchronously when every plugin's does (ours do): no await then.
      const built = pipeline.contextFactory();
      const contextValue = isPromise(built) ? await built : built;
      result = (await pipeline.execute({
        schema: pipeline.schema,
        document: entry.document,
        contextValue,
        variableValues: params.variables ?? {},
        operationName,
      })) as ExecutionResult;
    } catch (error) {
      // A fault of the gateway's own: answered as yoga answers one (masked, the original logged).
      result = { errors: options.failure(error) };
    }
    answer(request, res, result, mediaType);
    graphql?.hotPath('served');
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
          const request = new NodeRequest(req);
          serve(req, res, request, body, started, handOver, enveloped, mediaType).catch((error: unknown) => {
            // Nothing in `serve` throws by design; if something does, the answer still goes through
            // the lifecycle: a masked 500 with the request id, no-store, an access line and an ended
            // span, the original logged once with the request id (error logging, in the lifecycle).
            if (res.headersSent) {
              logger.error({ err: { name: (error as Error).name } }, 'front door failed after answering');
              return void res.destroy();
            }
            if (!request.begun) lifecycle.begin(request, started);
            answer(request, res, { errors: options.failure(error) }, mediaType);
          });
        });
      };
    },
  };
}
