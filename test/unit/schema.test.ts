import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printPublicSchema } from '../../src/schema/print.js';

describe('the public schema', () => {
  it('matches the committed schema.graphql (run `npm run schema` after an intended change)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(printPublicSchema()).toBe(committed);
  });

  it('describes every type, field and argument', () => {
    const undocumented: string[] = [];
    const sdl = printPublicSchema();
    const lines = sdl.split('\n');
    lines.forEach((line, i) => {
      const declares =
        /^(type|interface|union|enum|scalar|input) /.test(line) ||
        /^ {2,4}\w+[(:]/.test(line) ||
        /^ {2}[A-Z_]+$/.test(line);
      // Names starting with _ are federation's own (_entities, _service, _Any, _Entity, _Service).
      const federation = /^\s*(type|union|scalar)?\s*_/.test(line);
      if (declares && !federation && !/"""\s*$/.test(lines[i - 1] ?? '')) undocumented.push(line.trim());
    });
    expect(undocumented).toEqual([]);
  });
});
