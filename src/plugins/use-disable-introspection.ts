import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Introspection off (`INTROSPECTION=false`): graphql-js's NoSchemaIntrospectionCustomRule in every
 * validation. yoga's own plugin (`@graphql-yoga/plugin-disable-introspection`) decides per request
 * in an HTTP hook (onRequestParse) and remembers it in a WeakSet keyed by the Fetch Request, which
 * a validation run outside yoga's HTTP pipeline (the hot path, hot-path/) never sees: it would have
 * let introspection through there. The setting is the process's, so the rule is added at validation.
 */
export function useDisableIntrospection({ disabled }: { disabled: boolean }): Plugin {
  return {
    onValidate({ addValidationRule }) {
      if (disabled) addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
