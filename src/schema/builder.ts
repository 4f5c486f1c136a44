import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ErrorsPlugin from '@pothos/plugin-errors';
import FederationPlugin from '@pothos/plugin-federation';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { mayGetTokensFor } from '../auth/rules.js';
import { InvalidInputResult } from '../domain/outcomes.js';
import type { Caller, MemberLookup } from '../domain/types.js';
import type { Loaders } from '../loaders/index.js';

/** What every resolver gets: the request's loaders and nothing that knows HTTP or undici. */
export interface Context {
  caller: Caller;
  loaders: Loaders;
  requestId: string;
  /** `_entities` representations one request may send (MAX_ENTITY_REPRESENTATIONS). */
  maxEntityRepresentations: number;
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
      tokensFor: ({ by, value }) => mayGetTokensFor(context.caller, by, value),
    }),
  },
  defaultFieldNullability: false,
  errors: {
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

builder.scalarType('DateTime', {
  description: 'An instant in UTC, as an ISO-8601 string with milliseconds (2024-03-20T16:54:47.274Z).',
  serialize: (value) => (value instanceof Date ? value : new Date(value)).toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime: expected an ISO-8601 string');
    return date;
  },
});

builder.queryType({ description: 'Reads: member tokens.' });
builder.mutationType({ description: 'Writes: refreshing and revoking member tokens.' });
