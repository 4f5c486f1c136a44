import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

/** The public schema as committed in schema.graphql: sorted, so diffs show only real changes. */
export function printPublicSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The subgraph SDL as committed in subgraph.graphql: with @link and @key, what a router composes. */
export function printSubgraph(): string {
  return `${printSubgraphSchema(lexicographicSortSchema(schema))}\n`;
}
