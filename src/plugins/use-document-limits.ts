import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { Plugin } from 'graphql-yoga';
import type { DocumentLimitsConfig } from '../config/load.js';

/**
 * What one GraphQL document may contain, from graphql-armor (tokens, depth, aliases, directives,
 * cost), checked before anything runs; and field suggestions hidden when introspection is off
 * (they would leak the schema).
 */
export function useDocumentLimits(
  limits: DocumentLimitsConfig,
  { introspection }: { introspection: boolean },
): (readonly [name: string, plugin: Plugin])[] {
  return [
    ['max tokens', maxTokensPlugin({ n: limits.maxTokens }) as Plugin],
    // Inline fragments count as depth, so nesting them cannot get around the limit.
    ['max depth', maxDepthPlugin({ n: limits.maxDepth, flattenFragments: false }) as Plugin],
    ['max aliases', maxAliasesPlugin({ n: limits.maxAliases }) as Plugin],
    ['max directives', maxDirectivesPlugin({ n: limits.maxDirectives }) as Plugin],
    ['cost limit', costLimitPlugin({ maxCost: limits.maxCost }) as Plugin],
    ...(introspection ? [] : [['block field suggestions', blockFieldSuggestionsPlugin() as Plugin] as const]),
  ];
}
