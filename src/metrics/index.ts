import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { UpstreamObserver } from '../client/endpoints.js';
import {
  type GatewayObserver,
  type GraphQLObserver,
  type SharingState,
  sharingStates,
} from '../domain/types.js';
import type { LifecycleStep } from '../request/lifecycle.js';
import { createGraphQLObserver, graphqlMetricsStep } from './graphql.js';
import { TallyHistogram, tallyCounter } from './tally.js';

/** What the gauges read when Prometheus scrapes. */
export interface MetricSources {
  breakerOpen(): boolean;
  /** Upstream calls left in the budget's window; undefined when no budget is set. */
  budgetRemaining(): Promise<number | undefined>;
  /** Where the rate limits are counted now: this process only, in Redis, or per-replica insurance while Redis is down. */
  sharing(): SharingState;
}

export interface Metrics {
  registry: Registry;
  /** For the client: every HTTP attempt and breaker short-circuit. */
  upstream: UpstreamObserver;
  /** For the loaders: token operations, limit refusals, saved calls. */
  gateway: GatewayObserver;
  /**
   * GraphQL request duration, executed operations and error results, into the same registry
   * (graphql.ts): a step of every request's lifecycle, on both doors.
   */
  step(): LifecycleStep;
  /** The same families, and the door counter (`gateway_hot_path_requests_total`). */
  graphql: GraphQLObserver;
  /** Where the gauges read from; set once the gateway has built its client and limits. */
  watch(sources: MetricSources): void;
}

/**
 * The gateway's Prometheus metrics (prom-client), in a registry of their own, served on their own
 * listener (server.ts), never on the public GraphQL port. Labels are fixed vocabularies: endpoint
 * names, client error codes, GraphQL result codes, operation kinds, scopes and reasons. No label
 * ever carries a token, key, email, member id, caller key or a caller-chosen operation name.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let sources: MetricSources | undefined;

  const upstreamRequests = tallyCounter({
    name: 'circle_upstream_requests_total',
    help: 'HTTP attempts to Circle, retries included, by endpoint and outcome (ok or the client error code); a call the open breaker refused counts once with outcome CIRCUIT_OPEN and no attempt.',
    labelNames: ['endpoint', 'outcome'],
    registers: [registry],
  });
  const upstreamDuration = new TallyHistogram({
    name: 'circle_upstream_request_duration_seconds',
    help: 'Duration of HTTP attempts to Circle, by endpoint.',
    labelNames: ['endpoint'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'circle_breaker_open',
    help: '1 while the circuit breaker in front of Circle is open (or half-open), else 0.',
    registers: [registry],
    collect() {
      this.set(sources?.breakerOpen() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'circle_budget_remaining',
    help: "Upstream calls left in Circle's budget (CIRCLE_REQUEST_BUDGET per 5 minutes): the replicas' shared count with Redis, this replica's share while Redis is down; +Inf when no budget is set.",
    registers: [registry],
    async collect() {
      const remaining = await sources?.budgetRemaining();
      this.set(remaining ?? Number.POSITIVE_INFINITY);
    },
  });
  new Gauge({
    name: 'gateway_shared_state',
    help: 'Where the rate limits and the budget are counted: 1 for the current state, memory (one replica, no REDIS_URL), shared (Redis) or insurance (Redis down: per-replica shares).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const now = sources?.sharing() ?? 'memory';
      for (const state of sharingStates) this.set({ state }, state === now ? 1 : 0);
    },
  });
  const tokenOperations = tallyCounter({
    name: 'gateway_token_operations_total',
    help: 'Token-bearing fields resolved, by operation (issue, refresh, revoke_refresh, revoke_access) and outcome (ok or the GraphQL result code).',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const rateLimited = tallyCounter({
    name: 'gateway_rate_limited_total',
    help: 'Fields refused by a limit of the gateway, by scope (caller, member, budget, anonymous_budget, operation_cap).',
    labelNames: ['scope'],
    registers: [registry],
  });
  const saved = tallyCounter({
    name: 'gateway_upstream_calls_saved_total',
    help: 'Fields answered without an upstream call of their own, by reason (same_request: an identical lookup in the request; single_flight: joined a concurrent refresh; unusable_token: a token Circle cannot know, or recently said it did not; coalesced_mint: joined a mint in flight for the same caller and member; session: sessionToken handed out the stored access token).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const sessionEvents = tallyCounter({
    name: 'gateway_sessions_total',
    help: 'Sessions started and ended, by event (started, ended) and the reason one ended (signed_out, replaced, idle, max_age, ended_by_backend, refresh_token_expired, refresh_token_revoked; `none` for started).',
    labelNames: ['event', 'reason'],
    registers: [registry],
  });
  const authRefused = tallyCounter({
    name: 'gateway_auth_refused_total',
    help: 'Credentials refused before anything ran, by kind (api_key, bearer, cookie) and reason (as the auth.refused audit event says).',
    labelNames: ['credential', 'reason'],
    registers: [registry],
  });
  // Present from the first scrape, so dashboards and alerts see zeros rather than no series.
  sessionEvents.zero('started', 'none');
  for (const operation of ['issue', 'refresh', 'revoke_refresh', 'revoke_access']) {
    tokenOperations.zero(operation, 'ok');
  }
  for (const scope of ['caller', 'member', 'budget', 'anonymous_budget', 'operation_cap'])
    rateLimited.zero(scope);
  for (const reason of ['same_request', 'single_flight', 'unusable_token', 'coalesced_mint', 'session'])
    saved.zero(reason);
  for (const endpoint of ['authToken', 'refresh', 'revokeRefresh', 'revokeAccess']) {
    upstreamRequests.zero(endpoint, 'ok');
  }

  const graphql = createGraphQLObserver(registry);
  return {
    registry,
    upstream: {
      attempt(endpoint, outcome, seconds) {
        upstreamRequests.inc(endpoint, outcome);
        upstreamDuration.observe(seconds, endpoint);
      },
      shortCircuit(endpoint) {
        upstreamRequests.inc(endpoint, 'CIRCUIT_OPEN');
      },
    },
    gateway: {
      tokenOperation: (operation, outcome) => tokenOperations.inc(operation, outcome),
      rateLimited: (scope) => rateLimited.inc(scope),
      upstreamCallSaved: (reason) => saved.inc(reason),
      session: (event, reason) => sessionEvents.inc(event, reason ?? 'none'),
      authRefused: (credential, reason) => authRefused.inc(credential, reason),
    },
    step: () => graphqlMetricsStep(graphql),
    graphql,
    watch(next) {
      sources = next;
    },
  };
}
