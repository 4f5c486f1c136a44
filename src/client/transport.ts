import { type Dispatcher, Pool } from 'undici';
import {
  type CircleError,
  ContractViolationError,
  UpstreamConnectionError,
  UpstreamTimeoutError,
} from './errors.js';
import type { UpstreamResponse } from './responses.js';

export interface TransportOptions {
  /** Circle's origin. Default `https://app.circle.so`. */
  baseURL?: string;
  /** Headless Auth app token, sent as `Authorization: Bearer` on every call. */
  appToken: string;
  /** Any undici dispatcher (a `MockAgent` in tests, a proxy agent). Default: one keep-alive `Pool`. */
  dispatcher?: Dispatcher;
  /** Pool size: the most sockets open to Circle at once. Default 64. */
  connections?: number;
  /** Time to open a connection (TCP + TLS). Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Time from sending the request to Circle's response headers. Default 8000 ms. */
  headersTimeoutMs?: number;
  /** Most time between two body chunks. Default 8000 ms. */
  bodyTimeoutMs?: number;
  /** Largest response body read; a larger one is a contract violation. Default 64 KiB. */
  maxResponseBytes?: number;
}

export interface UpstreamRequest {
  method: 'POST' | 'PATCH';
  path: string;
  body: Record<string, unknown>;
  signal: AbortSignal;
}

export interface Transport {
  send(req: UpstreamRequest): Promise<UpstreamResponse>;
  /** Closes the pool this transport created; an injected dispatcher is left to its owner. */
  close(): Promise<void>;
}

const DEFAULT_BASE_URL = 'https://app.circle.so';

// Errors that can only happen before a byte of the request left this process.
const connectPhaseCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`createClient: ${option} must be a positive number, got ${String(value)}`);
  }
  return value;
}

export function createTransport(options: TransportOptions): Transport {
  let origin: string;
  try {
    origin = new URL(options.baseURL ?? DEFAULT_BASE_URL).origin;
  } catch {
    throw new TypeError('createClient: baseURL must be an absolute http(s) URL');
  }
  if (!/^https?:/.test(origin)) throw new TypeError('createClient: baseURL must be an absolute http(s) URL');
  if (typeof options.appToken !== 'string' || options.appToken.trim() === '') {
    throw new TypeError('createClient: appToken must be a non-empty string');
  }
  const headersTimeout = positive('headersTimeoutMs', options.headersTimeoutMs, 8000);
  const bodyTimeout = positive('bodyTimeoutMs', options.bodyTimeoutMs, 8000);
  const maxBytes = positive('maxResponseBytes', options.maxResponseBytes, 64 * 1024);
  const ownPool = options.dispatcher
    ? undefined
    : new Pool(origin, {
        connections: positive('connections', options.connections, 64),
        connect: { timeout: positive('connectTimeoutMs', options.connectTimeoutMs, 3000) },
        keepAliveTimeout: 30_000,
        headersTimeout,
        bodyTimeout,
      });
  const dispatcher: Dispatcher = options.dispatcher ?? (ownPool as Pool);
  const authorization = `Bearer ${options.appToken}`;

  return {
    async send(req) {
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatcher.request({
          origin,
          path: req.path,
          method: req.method,
          headers: {
            authorization,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify(req.body),
          signal: req.signal,
          headersTimeout,
          bodyTimeout,
        });
      } catch (error) {
        // An abort is the call layer's to name (caller abort or deadline), not a network fault.
        if (req.signal.aborted) throw error;
        throw classifyNetworkError(error);
      }
      const retryAfter = response.headers['retry-after'];
      const length = Number(response.headers['content-length']);
      return {
        status: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        // A declared length within the cap is read in one go (undici never delivers more than it);
        // otherwise the body is streamed and cut off at the cap.
        body:
          Number.isInteger(length) && length <= maxBytes
            ? await readWhole(response.body, req.signal)
            : await readCapped(response.body, maxBytes, response.statusCode, req.signal),
      };
    },
    async close() {
      await ownPool?.close();
    },
  };
}

async function readWhole(body: Dispatcher.ResponseData['body'], signal: AbortSignal) {
  try {
    return await body.text();
  } catch (error) {
    if (signal.aborted) throw error;
    throw classifyNetworkError(error);
  }
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  status: number,
  signal: AbortSignal,
) {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        body.destroy();
        throw new ContractViolationError(`response body over ${maxBytes} bytes`, { status });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof ContractViolationError || signal.aborted) throw error;
    throw classifyNetworkError(error);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return cause === undefined ? undefined : errorCode(cause);
}

/** undici and socket errors to the taxonomy; the call layer handles aborts before this runs. */
function classifyNetworkError(error: unknown): CircleError {
  const code = errorCode(error);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UpstreamTimeoutError(true, { cause: error });
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new UpstreamTimeoutError(false, { cause: error });
    default:
      return new UpstreamConnectionError(code !== undefined && connectPhaseCodes.has(code), { cause: error });
  }
}
