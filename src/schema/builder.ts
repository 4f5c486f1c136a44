import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ErrorsPlugin from '@pothos/plugin-errors';
import FederationPlugin from '@pothos/plugin-federation';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { mayGetTokensFor } from '../auth/rules.js';
import { InvalidInputResult, RateLimitedResult, UpstreamUnavailableResult } from '../domain/outcomes.js';
import type { Caller, MemberLookup } from '../domain/types.js';
import type { Loaders } from '../loaders/index.js';
import type { RequestSessions } from '../sessions/request.js';

/** What every resolver gets: the request's loaders and nothing that knows HTTP or undici. */
export interface Context {
  caller: Caller;
  loaders: Loaders;
  requestId: string;
  /** `_entities` representations one request may send (MAX_ENTITY_REPRESENTATIONS). */
  maxEntityRepresentations: number;
  /** The session operations for this request; none when SESSIONS=off. */
  sessions?: RequestSessions;
}

/**
 * Lets go of what the scope-auth plugin cached for a request (its scope results), once the request
 * has been executed. The plugin keeps them in a WeakMap keyed by the context, and V8's scavenger
 * keeps such entries alive: left there, every request's context (loaders, results) was promoted to
 * the old generation and waited for a full collection (bench/README.md, memory).
 */
export function releaseRequest(context: object): void {
  RequestCache.clearForContext(context);
  // The request is over: what the schema refused in it is reported once (loaders/index.ts).
  (context as Partial<Context>).loaders?.finish();
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { tokensFor: { by: MemberLookup; value: string } };
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
  };
}>({
  // Order matters: errors wraps scope-auth and validation, so FORBIDDEN and argument failures
  // become typed results; anything else an auth check throws (UNAUTHENTICATED) stays top-level.
  // Federation comes after the plugins that wrap resolvers, so _entities goes through them too.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, ValidationPlugin, DirectivesPlugin, FederationPlugin],
  scopeAuth: {
    authScopes: (context) => ({
      // SESSIONS=required: no refresh token reaches a member's browser; backends are unaffected.
      tokensFor: ({ by, value }) =>
        mayGetTokensFor(context.caller, by, value) &&
        !(context.sessions?.mode === 'required' && context.caller.kind === 'member'),
    }),
  },
  defaultFieldNullability: false,
  errors: {
    // Every token field can fail on its arguments, a limit or Circle: each result union has these.
    defaultTypes: [InvalidInputResult, RateLimitedResult, UpstreamUnavailableResult],
    directResult: true,
    // Argument failures are plain INVALID_INPUT results; nothing is revealed before authorization.
    unsafelyHandleInputErrors: true,
  },
  validation: {
    validationError: (result) => {
      const issue = result.issues[0];
      const segment = issue?.path?.[0];
      const argument = String(typeof segment === 'object' ? segment.key : (segment ?? 'input'));
      return new InvalidInputResult(argument, issue?.message ?? 'invalid value');
    },
  },
});

/** `toISOString`'s own form: a string already in it is answered as it is. */
const canonicalInstant =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** An instant as `toISOString` writes it; Circle's own strings usually are (parsing one costs µs). */
function serializeInstant(value: unknown): string {
  if (typeof value === 'string' && canonicalInstant.test(value)) {
    // A day past its month's end (02-30) is rolled over by Date: only such strings go through it.
    const day = Number(value.slice(8, 10));
    if (day <= 28) return value;
  }
  return (value instanceof Date ? value : new Date(value as string)).toISOString();
}

builder.scalarType('DateTime', {
  description: 'An instant in UTC, as an ISO-8601 string with milliseconds (2024-03-20T16:54:47.274Z).',
  serialize: serializeInstant,
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime: expected an ISO-8601 string');
    return date;
  },
});

builder.queryType({ description: 'Reads: member tokens.' });
builder.mutationType({ description: 'Writes: refreshing and revoking member tokens.' });
