import type { SandboxMember } from '../config/sandbox-members.js';

export type { SandboxMember };

/** The demo members: `ada@example.com` first, as the README and the GraphiQL examples use it. */
export const demoMembers: readonly SandboxMember[] = [
  { id: 1, email: 'ada@example.com', ssoId: 'sso-ada', name: 'Ada Lovelace' },
  { id: 2, email: 'grace@example.com', ssoId: 'sso-grace', name: 'Grace Hopper' },
  { id: 3, email: 'alan@example.com', ssoId: 'sso-alan', name: 'Alan Turing' },
  { id: 4, email: 'katherine@example.com', ssoId: 'sso-katherine', name: 'Katherine Johnson' },
  { id: 5, email: 'edsger@example.com', ssoId: 'sso-edsger', name: 'Edsger Dijkstra' },
];
