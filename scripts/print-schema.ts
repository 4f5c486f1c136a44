/** `npm run schema`: rewrites schema.graphql and subgraph.graphql from the code-first schema. */
import { writeFileSync } from 'node:fs';
import { printPublicSchema, printSubgraph } from '../src/schema/print.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printPublicSchema());
writeFileSync(new URL('../subgraph.graphql', import.meta.url), printSubgraph());
console.log('schema.graphql and subgraph.graphql written');
