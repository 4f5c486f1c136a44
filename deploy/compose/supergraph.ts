import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { printSubgraph } from '../../src/schema/print.js';

/** Where the router of compose.yaml reaches the gateway replicas (the compose service's DNS name). */
export const composeRoutingUrl = 'http://gateway:4000/graphql';

/** The supergraph of compose.yaml: this subgraph alone, under the name `circle`. */
export function printComposeSupergraph(): string {
  const composed = composeServices([
    { name: 'circle', url: composeRoutingUrl, typeDefs: parse(printSubgraph()) },
  ]);
  if (!composed.supergraphSdl) {
    throw new Error(`composition failed: ${composed.errors?.map((e) => e.message).join('; ')}`);
  }
  return `${composed.supergraphSdl}\n`;
}
