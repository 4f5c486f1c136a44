import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config.js';

/**
 * Document limits from graphql-armor (depth, aliases, tokens, directives, cost), checked before
 * anything runs; field suggestions hidden when introspection is off (they would leak the schema);
 * and CSRF prevention: a POST a browser can send without a preflight (form or text/plain) needs
 * the `x-graphql-yoga-csrf` header. GET is not covered here because usePostForTokens allows only
 * introspection over GET, which has no effect to forge.
 */
export function useAbuseLimits(limits: LimitsConfig, introspection: boolean): Plugin[] {
  const csrf = useCSRFPrevention();
  return [
    {
      onRequestParse(payload) {
        if (payload.request.method === 'GET') return;
        return csrf.onRequestParse?.(payload);
      },
    },
    maxTokensPlugin({ n: limits.maxTokens }),
    // Inline fragments count as depth, so nesting them cannot get around the limit.
    maxDepthPlugin({ n: limits.maxDepth, flattenFragments: false }),
    maxAliasesPlugin({ n: limits.maxAliases }),
    maxDirectivesPlugin({ n: limits.maxDirectives }),
    costLimitPlugin({ maxCost: limits.maxCost }),
    ...(introspection ? [] : [blockFieldSuggestionsPlugin()]),
  ] as Plugin[];
}
