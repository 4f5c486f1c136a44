import { GraphQLError, type GraphQLSchema, isUnionType } from 'graphql';

/**
 * Checks `_entities` representations before @apollo/subgraph's resolver sees them: it throws a
 * plain Error on a representation without a known `__typename`, which would be masked as
 * "Unexpected error." and logged with a stack at error level for any anonymous caller. Here each
 * bad representation is a GraphQL error that says what is wrong (BAD_USER_INPUT).
 */
export function guardEntityRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const union = schema.getType('_Entity');
  if (!field?.resolve || !isUnionType(union)) return schema;
  const entities = new Set(union.getTypes().map((type) => type.name));
  const names = [...entities].join(', ');
  const resolve = field.resolve;
  field.resolve = (root, args: { representations?: unknown }, context, info) => {
    const representations = Array.isArray(args.representations) ? args.representations : [];
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
    return resolve(root, args, context, info);
  };
  return schema;
}
