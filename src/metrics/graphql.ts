import { type ExecutionResult, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The GraphQL side of the metrics, under the names `@graphql-yoga/plugin-prometheus` gives them (so
 * dashboards made for yoga read them): request duration, executed operations and error results.
 * The plugin itself was dropped for its cost: cut to these three families it still cost 20–35 %
 * more CPU per operation (A/B in bench/README.md), this one costs nothing the bench can see. It
 * hooks only the request's start, execution and result: no parse or validate hook.
 *
 * Labels are fixed vocabularies: the operation type, the HTTP method and status, and the phase an
 * error came from. Never an operation name (the caller's text), a URL or a field path.
 */
type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

interface RequestRecord {
  started: number;
  operationType: OperationType;
  /** Reached GraphQL (a result was processed): only those requests are timed. */
  graphql: boolean;
  /** Reached execution: an error result then comes from the execute phase. */
  executed: boolean;
}

/** The phase of an error result, from the code graphql-yoga gives parse and validation errors. */
function phaseOf(result: ExecutionResult, executed: boolean): string {
  if (executed) return 'execute';
  const code = result.errors?.[0]?.extensions?.code;
  if (code === 'GRAPHQL_PARSE_FAILED') return 'parse';
  if (code === 'GRAPHQL_VALIDATION_FAILED') return 'validate';
  return 'context';
}

export function useGraphQLMetrics(registry: Registry): Plugin {
  const duration = new Histogram({
    name: 'graphql_yoga_http_duration',
    help: 'Time spent on HTTP connection',
    labelNames: ['operationType', 'method', 'statusCode'] as const,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'graphql_envelop_request',
    help: 'Counts the amount of GraphQL requests executed through Envelop',
    labelNames: ['operationType'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Counts the amount of errors reported from all phases',
    labelNames: ['operationType', 'phase'] as const,
    registers: [registry],
  });
  const records = new WeakMap<Request, RequestRecord>();

  return {
    onRequest({ request }) {
      records.set(request, {
        started: performance.now(),
        operationType: 'unknown',
        graphql: false,
        executed: false,
      });
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const record = request && records.get(request);
      const operationType = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
      requests.inc({ operationType });
      if (record) {
        record.operationType = operationType;
        record.executed = true;
      }
    },
    onResultProcess({ request, result }) {
      const record = records.get(request);
      if (record) record.graphql = true;
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result)) return;
      const executionResult = result as ExecutionResult;
      if (!executionResult.errors?.length) return;
      const operationType = record?.operationType ?? 'unknown';
      errors.inc({ operationType, phase: phaseOf(executionResult, record?.executed ?? false) });
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record?.graphql) return;
      duration.observe(
        { operationType: record.operationType, method: request.method, statusCode: String(response.status) },
        (performance.now() - record.started) / 1000,
      );
    },
  };
}
