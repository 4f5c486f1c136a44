import { InvalidInputError } from '../client/errors.js';
import { checkEmail, checkMemberId, checkSsoId, checkToken } from '../client/input.js';
import type { MemberLookup } from '../domain/types.js';

/**
 * What the loaders will pass to Circle, checked by the client's own argument rules (client/input.ts),
 * so the schema's validation and the client can never disagree on what is valid. Each function
 * returns the reason a value is refused, or undefined when it is valid; never the value itself.
 */

function reasonOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof InvalidInputError) return error.reason;
    throw error;
  }
}

const lookupChecks: Record<MemberLookup, (value: string) => unknown> = {
  // GraphQL carries the id as a string; Circle wants a JSON integer.
  ID: (value) => checkMemberId('value', /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN),
  EMAIL: (value) => checkEmail('value', value),
  SSO: (value) => checkSsoId('value', value),
};

/** Why `value` is not a valid identifier of kind `by`, or undefined. */
export function lookupProblem(by: MemberLookup, value: string): string | undefined {
  return reasonOf(() => lookupChecks[by](value));
}

/** Why `value` is not a valid refresh or access token, or undefined. */
export function tokenProblem(value: string): string | undefined {
  return reasonOf(() => checkToken('token', value));
}
