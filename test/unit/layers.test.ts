import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { governed, layers, sourceFiles, src, violations } from '../support/layers.js';

describe('layers: imports run one way', () => {
  it('finds every import in src/, bench/, scripts/, support/ and deploy/ allowed by the layer table', () => {
    const files = governed.flatMap((dir) => sourceFiles(dir));
    expect(files.filter((file) => file.startsWith(src)).length).toBeGreaterThan(40);
    for (const dir of ['bench', 'scripts', 'support'])
      expect(files.some((file) => file.includes(`/${dir}/`))).toBe(true);
    const wrong = files.flatMap((file) => violations(file, readFileSync(file, 'utf8')));
    expect(wrong).toEqual([]);
  });

  it('has a table without cycles, so "down" means something', () => {
    const order: string[] = [];
    const visiting = new Set<string>();
    const visit = (unit: string, path: string[]) => {
      if (order.includes(unit)) return;
      if (visiting.has(unit)) throw new Error(`cycle: ${[...path, unit].join(' → ')}`);
      visiting.add(unit);
      for (const next of layers[unit] ?? []) visit(next, [...path, unit]);
      visiting.delete(unit);
      order.push(unit);
    };
    for (const unit of Object.keys(layers)) visit(unit, []);
    expect(order).toHaveLength(Object.keys(layers).length);
  });

  it('catches a wrong arrow: the schema importing the client, the client importing the schema', () => {
    expect(
      violations(join(src, 'schema/tokens.ts'), "import type { X } from '../client/endpoints.js';"),
    ).toEqual(['src/schema/tokens.ts imports ../client/endpoints.js: schema may not depend on client']);
    expect(violations(join(src, 'client/errors.ts'), "export { y } from '../domain/outcomes.js';")).toEqual([
      'src/client/errors.ts imports ../domain/outcomes.js: client may not depend on domain',
    ]);
    expect(
      violations(join(src, 'loaders/index.ts'), "const m = await import('../schema/builder.js');"),
    ).toEqual(['src/loaders/index.ts imports ../schema/builder.js: loaders may not depend on schema']);
    // Outside src/: a benchmark reaching into the tests' support, a plugin importing another.
    expect(violations(join(src, '../bench/x.ts'), "import { s } from '../test/support/stack.js';")).toEqual([
      'bench/x.ts imports ../test/support/stack.js: bench may not depend on test',
    ]);
    expect(
      violations(join(src, 'hot-path/index.ts'), "import { useNoStore } from '../plugins/use-no-store.js';"),
    ).toEqual([
      'src/hot-path/index.ts imports ../plugins/use-no-store.js: hot-path may not depend on plugins',
    ]);
    expect(violations(join(src, 'newthing/x.ts'), '')).toEqual([
      'src/newthing/x.ts: unit "newthing" is not declared in the layer table',
    ]);
  });
});
