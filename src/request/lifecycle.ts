import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { maskError } from 'graphql-yoga';
import type { RequestLike } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { beginAccessRecord, noteOperationName, writeAccessLine } from './access.js';
import { requestIdOf } from './id.js';
import { beginRequestTrace, endRequestTrace, traceOperation } from './trace.js';

/**
 * One concern of every request, at the points both doors pass: the front door (front-door/) calls
 * them itself, yoga's path through `useRequestLifecycle` (plugins/). A new concern is one step in
 * the list `server.ts` composes; neither door has code of its own for it.
 */
export interface LifecycleStep {
  /** What the step is, for the plugin inventory and logs. */
  readonly name: string;
  /** The request is being answered; it arrived at `started` (`performance.now()`). */
  begin?(request: RequestLike, started: number): void;
  /** The operation about to execute, once the context is built (`undefined` if none matches). */
  execute?(request: RequestLike, operation: OperationDefinitionNode | undefined): void;
  /**
   * Execution is done; its errors are not masked yet. Returns the result to go on with (the same
   * one, or a copy with more in it).
   */
  executed?(request: RequestLike, result: ExecutionResult, contextValue: object): ExecutionResult;
  /** The result about to be serialized (errors masked), whichever phase it came from. */
  result?(request: RequestLike, result: ExecutionResult): void;
  /** Headers every response carries, whatever answered it. */
  headers?(request: RequestLike, set: (name: string, value: string) => void): void;
  /** The response has been written with `status`. */
  end?(request: RequestLike, status: number): void;
}

type Hook = Exclude<keyof LifecycleStep, 'name'>;

function stepsWith<H extends Hook>(steps: readonly LifecycleStep[], hook: H) {
  return steps.filter((step) => step[hook] !== undefined) as (LifecycleStep &
    Required<Pick<LifecycleStep, H>>)[];
}

/** The list, walked in order at each point; each point loops over only the steps that use it. */
export class RequestLifecycle {
  private readonly beginning;
  private readonly executing;
  private readonly finishing;
  private readonly resulting;
  private readonly stamping;
  private readonly ending;

  constructor(readonly steps: readonly LifecycleStep[]) {
    this.beginning = stepsWith(steps, 'begin');
    this.executing = stepsWith(steps, 'execute');
    this.finishing = stepsWith(steps, 'executed');
    this.resulting = stepsWith(steps, 'result');
    this.stamping = stepsWith(steps, 'headers');
    this.ending = stepsWith(steps, 'end');
  }

  begin(request: RequestLike, started = performance.now()): void {
    for (const step of this.beginning) step.begin(request, started);
  }

  execute(request: RequestLike, document: DocumentNode, operationName: string | null | undefined): void {
    if (this.executing.length === 0) return;
    const operation = getOperationAST(document, operationName) ?? undefined;
    for (const step of this.executing) step.execute(request, operation);
  }

  executed(request: RequestLike, result: ExecutionResult, contextValue: object): ExecutionResult {
    let current = result;
    for (const step of this.finishing) current = step.executed(request, current, contextValue);
    return current;
  }

  result(request: RequestLike, result: ExecutionResult): void {
    for (const step of this.resulting) step.result(request, result);
  }

  headers(request: RequestLike, set: (name: string, value: string) => void): void {
    for (const step of this.stamping) step.headers(request, set);
  }

  end(request: RequestLike, status: number): void {
    for (const step of this.ending) step.end(request, status);
  }
}

/** `x-request-id` on every response: the gateway's own id, so a client can quote it. */
export const requestIdStep: LifecycleStep = {
  name: 'request id',
  headers: (request, set) => set('x-request-id', requestIdOf(request)),
};

/** `Cache-Control: no-store` on every response: any of them may carry a token. */
export const noStoreStep: LifecycleStep = {
  name: 'no-store',
  headers: (_request, set) => set('cache-control', 'no-store'),
};

/**
 * A SERVER span per request (OpenTelemetry), continuing the caller's `traceparent`, named after the
 * operation and ended with the HTTP status.
 */
export const traceStep: LifecycleStep = {
  name: 'trace',
  begin: (request) => beginRequestTrace(request),
  execute: (request, operation) => {
    if (operation) traceOperation(request, operation);
  },
  end: (request, status) => endRequestTrace(request, status),
};

/**
 * One line per request, at info: request id, operation name, HTTP status, duration, the caller's
 * kind and name (a backend's configured name; never a key or a member's identity), and the upstream
 * calls it made. Nothing from the body, no header value, no token; the path only when it is one of
 * the gateway's own. Every field is built from fixed vocabularies: no redaction needed (logger.ts).
 */
export function accessLogStep(logger: Logger): LifecycleStep {
  return {
    name: 'access log',
    begin: (request, started) => beginAccessRecord(request, started),
    execute: (request, operation) => noteOperationName(request, operation?.name?.value),
    end: (request, status) => writeAccessLine(logger, request, status),
  };
}

/** The error each masked one stood for, so that a failure outside execution is logged as it was. */
const originals = new WeakMap<GraphQLError, Error>();

/**
 * yoga's `maskError` (`maskedErrors.maskError`, and the front door's failures), remembering each
 * original for `errorLoggingStep`: yoga's own handling of a failure outside execution (a context
 * that cannot be built) keeps nothing of it.
 */
export function maskUnexpected(error: unknown, message: string, isDev?: boolean): Error {
  const masked = maskError(error, message, isDev);
  if (masked !== error && masked instanceof GraphQLError && error instanceof Error)
    originals.set(masked, error);
  return masked;
}

// An error's text is whatever threw it: an address in it is not logged (pino's redaction reads keys).
const emailLike = /[^\s@"'<>()[\]]+@[^\s@"'<>()[\]]+\.[A-Za-z]{2,}/g;
const scrub = (text: string | undefined) => text?.replace(emailLike, '[email]');

function logUnexpected(logger: Logger, requestId: string, error: GraphQLError, original: Error): void {
  logger.error(
    {
      requestId,
      path: error.path?.join('.'),
      err: { name: original.name, message: scrub(original.message), stack: scrub(original.stack) },
    },
    'unexpected error',
  );
}

/**
 * Logs every unexpected error (one whose original is not a GraphQLError) with the request id, and
 * puts the request id in an execution result's `extensions`, so the line a client quotes is the
 * line an operator finds. An execution error is logged before yoga's masking turns it into
 * "Unexpected error."; a failure outside execution (no field path) once it is masked, from the
 * original `maskUnexpected` kept. Only the error's name, message and stack are logged.
 */
export function errorLoggingStep(logger: Logger): LifecycleStep {
  return {
    name: 'error logging',
    executed: (request, result) => {
      if (!result.errors?.length) return result;
      const requestId = requestIdOf(request);
      for (const error of result.errors) {
        const original = error.originalError;
        if (original && !(original instanceof GraphQLError))
          logUnexpected(logger, requestId, error, original);
      }
      // A copy keeps graphql-jit's own serializer (`stringify`, an own property of its results).
      return { ...result, extensions: { ...result.extensions, requestId } };
    },
    result: (request, result) => {
      for (const error of result.errors ?? []) {
        const original = error.path ? undefined : originals.get(error);
        if (original) logUnexpected(logger, requestIdOf(request), error, original);
      }
    },
  };
}

/** Lets go of what the schema's plugins cached for a request's context, once it has executed. */
export function releaseStep(release: (contextValue: object) => void): LifecycleStep {
  return {
    name: 'release',
    executed: (_request, result, contextValue) => {
      release(contextValue);
      return result;
    },
  };
}
