import type { ExecutionResult } from 'graphql';
import type { Registry } from 'prom-client';
import { requestSlot } from '../domain/request-slot.js';
import type { ErrorPhase, GraphQLObserver, OperationType } from '../domain/types.js';
import type { LifecycleStep } from '../request/lifecycle.js';
import { TallyHistogram, tallyCounter } from './tally.js';

/**
 * The GraphQL side of the metrics, under the names `@graphql-yoga/plugin-prometheus` gives them (so
 * dashboards made for yoga read them): request duration, executed operations and error results.
 * The plugin itself was dropped for its cost: cut to these three families it still cost 20–35 %
 * more CPU per operation (A/B in bench/README.md). It is a step of the request lifecycle: the
 * request's start, execution, result and end; no parse or validate hook.
 *
 * Labels are fixed vocabularies: the operation type, the HTTP method and status, and the phase an
 * error came from. Never an operation name (the caller's text), a URL or a field path.
 */
interface RequestRecord {
  started: number;
  operationType: OperationType;
  /** Reached GraphQL (a result was processed): only those requests are timed. */
  graphql: boolean;
  /** Reached execution: an error result then comes from the execute phase. */
  executed: boolean;
}

/** The phase of an error result, from the code graphql-yoga gives parse and validation errors. */
function phaseOf(result: ExecutionResult, { executed }: { executed: boolean }): ErrorPhase {
  if (executed) return 'execute';
  const code = result.errors?.[0]?.extensions?.code;
  if (code === 'GRAPHQL_PARSE_FAILED') return 'parse';
  if (code === 'GRAPHQL_VALIDATION_FAILED') return 'validate';
  return 'context';
}

/** The three families, in `registry`; what the yoga plugin and the hot path both report to. */
export function createGraphQLObserver(registry: Registry): GraphQLObserver {
  const duration = new TallyHistogram({
    name: 'graphql_yoga_http_duration',
    help: 'Time spent on HTTP connection',
    labelNames: ['operationType', 'method', 'statusCode'],
    registers: [registry],
  });
  const requests = tallyCounter({
    name: 'graphql_envelop_request',
    help: 'Counts the amount of GraphQL requests executed through Envelop',
    labelNames: ['operationType'],
    registers: [registry],
  });
  const errors = tallyCounter({
    name: 'graphql_envelop_error_result',
    help: 'Counts the amount of errors reported from all phases',
    labelNames: ['operationType', 'phase'],
    registers: [registry],
  });
  const hotPath = tallyCounter({
    name: 'gateway_hot_path_requests_total',
    help: 'GraphQL POSTs the hot path read: served there, or handed over to yoga',
    labelNames: ['outcome'],
    registers: [registry],
  });
  hotPath.zero('served');
  hotPath.zero('handed_over');
  return {
    hotPath: (outcome) => hotPath.inc(outcome),
    executed: (operationType) => requests.inc(operationType),
    errorResult: (operationType, phase) => errors.inc(operationType, phase),
    answered: (operationType, method, status, seconds) =>
      duration.observe(seconds, operationType, method, status),
  };
}

/**
 * The observer's step in every request's lifecycle (request/lifecycle.ts), on both doors: its
 * start, execution, result and end. Only requests that reached GraphQL (a result was processed)
 * are timed.
 */
export function graphqlMetricsStep(observer: GraphQLObserver): LifecycleStep {
  const records = requestSlot<RequestRecord>('graphql metrics record');
  return {
    name: 'graphql metrics',
    begin(request, started) {
      records.set(request, { started, operationType: 'unknown', graphql: false, executed: false });
    },
    execute(request, operation) {
      const operationType = operation?.operation ?? 'unknown';
      observer.executed(operationType);
      const record = records.get(request);
      if (record) {
        record.operationType = operationType;
        record.executed = true;
      }
    },
    result(request, result) {
      const record = records.get(request);
      if (record) record.graphql = true;
      if (!result.errors?.length) return;
      observer.errorResult(
        record?.operationType ?? 'unknown',
        phaseOf(result, { executed: record?.executed ?? false }),
      );
    },
    end(request, status) {
      const record = records.get(request);
      if (!record?.graphql) return;
      observer.answered(
        record.operationType,
        request.method,
        status,
        (performance.now() - record.started) / 1000,
      );
    },
  };
}
