import { GraphQLError, type GraphQLSchema, isUnionType } from 'graphql';
import { unauthenticated } from '../auth/callers.js';
import type { Context } from './builder.js';

/** Representations already sent in a request, by its context: the cap is per request, aliases included. */
const sent = new WeakMap<object, number>();

/**
 * Checks `_entities` representations before @apollo/subgraph's resolver sees them: it throws a
 * plain Error on a representation without a known `__typename`, which would be masked as
 * "Unexpected error." and logged with a stack at error level for any anonymous caller. Here each
 * bad representation is a GraphQL error that says what is wrong (BAD_USER_INPUT).
 *
 * Before any of that, what a request may cost: at most `MAX_ENTITY_REPRESENTATIONS` representations
 * in one request (its `_entities` fields together), and a caller without credentials, who can get
 * no token at all, is refused once for the request (one audit event), not once per representation.
 */
export function guardEntityRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const union = schema.getType('_Entity');
  if (!field?.resolve || !isUnionType(union)) return schema;
  const entities = new Set(union.getTypes().map((type) => type.name));
  const names = [...entities].join(', ');
  const resolve = field.resolve;
  field.resolve = (root, args: { representations?: unknown }, context: Context, info) => {
    const representations = Array.isArray(args.representations) ? args.representations : [];
    const total = (sent.get(context) ?? 0) + representations.length;
    sent.set(context, total);
    if (total > context.maxEntityRepresentations) {
      throw new GraphQLError(
        `At most ${context.maxEntityRepresentations} entity representations per request; this one sent ${total}.`,
        { extensions: { code: 'BAD_USER_INPUT' } },
      );
    }
    representations.forEach((representation: unknown, index) => {
      const problem =
        typeof representation !== 'object' || representation === null || Array.isArray(representation)
          ? `Representation ${index} is not an object.`
          : !('__typename' in representation) || typeof representation.__typename !== 'string'
            ? `Representation ${index} has no __typename.`
            : !entities.has(representation.__typename)
              ? `Representation ${index} names ${JSON.stringify(representation.__typename.slice(0, 100))}, which is not an entity of this subgraph (${names}).`
              : undefined;
      if (problem) throw new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT' } });
    });
    if (context.caller.kind === 'anonymous') {
      context.loaders.refused('UNAUTHENTICATED', 'EMAIL', '_entities', representations.length);
      throw unauthenticated(
        'Authentication required: send x-api-key, or Authorization: Bearer <member JWT>.',
      );
    }
    return resolve(root, args, context, info);
  };
  return schema;
}
