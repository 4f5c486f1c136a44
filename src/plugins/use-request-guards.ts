import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { answeredMediaType, servableMediaTypes } from '../request/media-types.js';

/** A refusal yoga would have sent with no body, in JSON: the message says what to change. */
function refusal(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

const isJson = (value: string) => {
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
};

/**
 * Decides what can be decided from the HTTP request alone, before any body is parsed or anything
 * runs, and says so in JSON where yoga would answer with an empty body or a masked 500:
 * - a method other than GET or POST: 405; a body yoga cannot read (no parser for its Content-Type,
 *   multipart being off): 415;
 * - an Accept header that allows no JSON: 406, before execution, so no token is minted for an
 *   answer that cannot be delivered;
 * - `variables` or `extensions` that are not JSON (yoga parses them unguarded): 400.
 */
export function useRequestGuards(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'POST') {
        endResponse(
          refusal(
            405,
            'METHOD_NOT_ALLOWED',
            `Method ${request.method} is not allowed: send GraphQL requests with POST (or GET for introspection).`,
            { allow: 'GET, POST' },
          ),
        );
        return;
      }
      if (!requestParser) {
        const type = (request.headers.get('content-type') ?? '').slice(0, 100);
        endResponse(
          refusal(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `Unsupported Content-Type ${JSON.stringify(type)}: send application/json.`,
          ),
        );
        return;
      }
      if (answeredMediaType(request.headers.get('accept')) === undefined) {
        endResponse(
          refusal(
            406,
            'NOT_ACCEPTABLE',
            'Not Acceptable: the answer is application/graphql-response+json or application/json, and the Accept header allows neither.',
            { accept: servableMediaTypes.join(', ') },
          ),
        );
        return;
      }
      if (request.method === 'GET') {
        const params = new URL(request.url).searchParams;
        for (const name of ['variables', 'extensions']) {
          const value = params.get(name);
          if (value && !isJson(value)) {
            endResponse(refusal(400, 'BAD_REQUEST', `The ${name} parameter is not valid JSON.`));
            return;
          }
        }
      }
      // A form-encoded POST carries the same parameters, parsed just as unguarded.
      const parse = requestParser;
      setRequestParser(async (req) => {
        try {
          return await parse(req);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError('The variables or extensions parameter is not valid JSON.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
