import { z } from 'zod';
import { InvalidInputError } from '../client/errors.js';
import { checkEmail, checkMemberId, checkSsoId, checkToken } from '../client/input.js';
import type { MemberLookup } from '../loaders/index.js';

/**
 * Zod schemas for the validation plugin. The rules themselves live in the client (client/input.ts),
 * so the gateway and the client can never disagree on what is valid.
 */

/** The client's reason for rejecting `value`, or undefined when it is valid. */
function reasonOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof InvalidInputError) return error.reason;
    throw error;
  }
}

const checks: Record<MemberLookup, (value: string) => unknown> = {
  // GraphQL carries the id as a string; Circle wants a JSON integer.
  ID: (value) => checkMemberId('value', /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN),
  EMAIL: (value) => checkEmail('value', value),
  SSO: (value) => checkSsoId('value', value),
};

/** `memberToken(by, value)`: `value` is checked by what `by` says it is. */
export const memberLookupArgs = z
  .object({ by: z.enum(['ID', 'EMAIL', 'SSO']), value: z.string() })
  .superRefine((args, ctx) => {
    const reason = reasonOf(() => checks[args.by](args.value));
    if (reason) ctx.addIssue({ code: 'custom', path: ['value'], message: reason });
  });

/** A refresh or access token argument. */
export const tokenArg = z.string().superRefine((value, ctx) => {
  const reason = reasonOf(() => checkToken('token', value));
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});
