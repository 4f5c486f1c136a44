/**
 * `npm run schema`: rewrites schema.graphql and subgraph.graphql from the code-first schema, and the
 * compose example's supergraph (this subgraph alone, composed as the router sees it).
 */
import { writeFileSync } from 'node:fs';
import { printComposeSupergraph } from '../deploy/compose/supergraph.js';
import { printPublicSchema, printSubgraph } from '../src/schema/print.js';
import { clientArtefacts, printClientArtefacts } from './client-artefacts.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printPublicSchema());
writeFileSync(new URL('../subgraph.graphql', import.meta.url), printSubgraph());
writeFileSync(new URL('../deploy/compose/supergraph.graphql', import.meta.url), printComposeSupergraph());
console.log('schema.graphql, subgraph.graphql and deploy/compose/supergraph.graphql written');

const artefacts = await printClientArtefacts();
writeFileSync(clientArtefacts.possibleTypes, artefacts.possibleTypes);
writeFileSync(clientArtefacts.operations, artefacts.operations);
writeFileSync(clientArtefacts.trustedDocuments, artefacts.trustedDocuments);
console.log('clients/possible-types.json, clients/operations.ts and clients/trusted-documents.json written');
