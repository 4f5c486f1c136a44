import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

/**
 * CSRF prevention (yoga's plugin): a POST a browser can send without a preflight (form or
 * text/plain) needs the `x-graphql-yoga-csrf` header. GET is not covered here because
 * usePostForTokens allows only introspection over GET, which has no effect to forge.
 */
export function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention();
  return {
    onRequestParse(payload) {
      if (payload.request.method === 'GET') return;
      return csrf.onRequestParse?.(payload);
    },
  };
}
