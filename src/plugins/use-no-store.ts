import type { Plugin } from 'graphql-yoga';

/** `Cache-Control: no-store` on every response: any of them may carry a token. */
export function useNoStore(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('cache-control', 'no-store');
    },
  };
}
