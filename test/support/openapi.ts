import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Circle's OpenAPI file, vendored in spec/: the copy the tests read. */
export const specPath = fileURLToPath(new URL('../../spec/headless-auth-v1.yaml', import.meta.url));

interface MediaType {
  examples?: Record<string, { value?: unknown }>;
  schema?: { $ref?: string };
}
interface Operation {
  responses: Record<string, { content?: Record<string, MediaType> }>;
}
export interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

export const openapi = parse(readFileSync(specPath, 'utf8')) as OpenApi;

export interface DocumentedResponse {
  path: string;
  method: string;
  status: number;
  example: string;
  /** The example body; undefined for an empty one (204). */
  value: unknown;
  schemaRef: string | undefined;
}

/** Every (path, method, status, example) the OpenAPI file documents. */
export function documentedResponses(): DocumentedResponse[] {
  const rows: DocumentedResponse[] = [];
  for (const [path, methods] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = response.content?.['application/json'];
        for (const [example, { value }] of Object.entries(media?.examples ?? {})) {
          rows.push({
            path,
            method: method.toUpperCase(),
            status: Number(status),
            example,
            value,
            schemaRef: media?.schema?.$ref,
          });
        }
      }
    }
  }
  return rows;
}
