import { z } from 'zod';
import { memberLookups } from '../domain/types.js';
import { lookupProblem, tokenProblem } from '../loaders/arguments.js';

/** Zod schemas for the validation plugin, by the rules the loaders apply (loaders/arguments.ts). */

/** `memberToken(by, value)`: `value` is checked by what `by` says it is. */
export const memberLookupArgs = z
  .object({ by: z.enum(memberLookups), value: z.string() })
  .superRefine((args, ctx) => {
    const reason = lookupProblem(args.by, args.value);
    if (reason) ctx.addIssue({ code: 'custom', path: ['value'], message: reason });
  });

/** A refresh or access token argument. */
export const tokenArg = z.string().superRefine((value, ctx) => {
  const reason = tokenProblem(value);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});
