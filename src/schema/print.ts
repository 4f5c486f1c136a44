import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

/** The public schema as committed in schema.graphql: sorted, so diffs show only real changes. */
export function printPublicSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
