import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layers, sourceFiles, src, violations } from '../support/layers.js';

describe('layers: imports run one way', () => {
  it('finds every import in src/ allowed by the layer table', () => {
    const files = sourceFiles(src);
    expect(files.length).toBeGreaterThan(40);
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
    ).toEqual(['schema/tokens.ts imports ../client/endpoints.js: schema may not depend on client']);
    expect(violations(join(src, 'client/errors.ts'), "export { y } from '../domain/outcomes.js';")).toEqual([
      'client/errors.ts imports ../domain/outcomes.js: client may not depend on domain',
    ]);
    expect(
      violations(join(src, 'loaders/index.ts'), "const m = await import('../schema/builder.js');"),
    ).toEqual(['loaders/index.ts imports ../schema/builder.js: loaders may not depend on schema']);
    expect(violations(join(src, 'newthing/x.ts'), '')).toEqual([
      'newthing/x.ts: unit "newthing" is not declared in the layer table',
    ]);
  });
});
