/** `npm run schema`: rewrites schema.graphql from the code-first schema. */
import { writeFileSync } from 'node:fs';
import { printPublicSchema } from '../src/schema/print.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printPublicSchema());
console.log('schema.graphql written');
