import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The members the sandbox knows, when `SANDBOX_MEMBERS_FILE` names a file of them: read and checked
 * with the rest of the configuration, so a bad file stops start-up with the variable's name.
 */

/** A community member the sandbox knows. */
export interface SandboxMember {
  id: number;
  email: string;
  ssoId: string;
  name: string;
}

const memberFileSchema = z
  .array(
    z.object({
      id: z.number().int().min(1),
      email: z.email(),
      ssoId: z.string().min(1),
      name: z.string().default(''),
    }),
  )
  .min(1);

/** Reads members from a JSON file: `[{ "id": 1, "email": "…", "ssoId": "…", "name": "…" }, …]`. */
export function loadMembers(path: string): SandboxMember[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`sandbox members file ${path}: ${(error as Error).message}`);
  }
  const parsed = memberFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `sandbox members file ${path}: expected an array of {id, email, ssoId, name}; ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  const ids = new Set<number>();
  for (const member of parsed.data) {
    if (ids.has(member.id)) throw new Error(`sandbox members file ${path}: duplicate id ${member.id}`);
    ids.add(member.id);
  }
  return parsed.data;
}
