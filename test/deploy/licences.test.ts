import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The licences a deployment carries: every package of the production tree (`npm query .prod`, what
 * `npm ci --omit=dev` installs), held to the list the README states. A new licence, or a new package
 * under the Elastic License, fails here until the README says so.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const permissive = new Set(['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'Apache-2.0']);
/** Pulled in by @apollo/subgraph, which Pothos' federation plugin needs at run time. */
const elasticLicensed = ['@apollo/federation-internals'];

describe('licences of the production tree', () => {
  const tree = JSON.parse(execFileSync('npm', ['query', '.prod'], { cwd: root, encoding: 'utf8' })) as Array<{
    name: string;
    license?: unknown;
  }>;

  it('are permissive, but for the Elastic-licensed packages the README names', () => {
    expect(tree.length).toBeGreaterThan(50);
    const names = tree.map((pkg) => pkg.name);
    for (const tool of ['tsx', 'typescript', 'vitest']) expect(names).not.toContain(tool);
    const other = tree.filter((pkg) => !permissive.has(String(pkg.license)));
    expect(other.map((pkg) => `${pkg.name}: ${String(pkg.license)}`)).toEqual(
      elasticLicensed.map((name) => `${name}: Elastic-2.0`),
    );
  });
});
