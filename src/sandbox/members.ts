import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A community member the sandbox knows. */
export interface SandboxMember {
  id: number;
  email: string;
  ssoId: string;
  name: string;
}

/** The demo members: `ada@example.com` first, as the README and the GraphiQL examples use it. */
export const demoMembers: readonly SandboxMember[] = [
  { id: 1, email: 'ada@example.com', ssoId: 'sso-ada', name: 'Ada Lovelace' },
  { id: 2, email: 'grace@example.com', ssoId: 'sso-grace', name: 'Grace Hopper' },
  { id: 3, email: 'alan@example.com', ssoId: 'sso-alan', name: 'Alan Turing' },
  { id: 4, email: 'katherine@example.com', ssoId: 'sso-katherine', name: 'Katherine Johnson' },
  { id: 5, email: 'edsger@example.com', ssoId: 'sso-edsger', name: 'Edsger Dijkstra' },
];

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
