import { readFileSync } from 'node:fs';
import type { GraphQLScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
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

describe('DateTime', () => {
  const scalar = schema.getType('DateTime') as GraphQLScalarType;

  it('answers an instant as toISOString writes it, whatever form Circle sent', () => {
    expect(scalar.serialize('2024-03-20T16:54:47.274Z')).toBe('2024-03-20T16:54:47.274Z');
    expect(scalar.serialize('2024-03-20T18:54:47.274+02:00')).toBe('2024-03-20T16:54:47.274Z');
    expect(scalar.serialize('2024-03-20T16:54:47Z')).toBe('2024-03-20T16:54:47.000Z');
    expect(scalar.serialize(new Date('2024-03-20T16:54:47.274Z'))).toBe('2024-03-20T16:54:47.274Z');
    // A day past its month's end is rolled over, as Date does it, not passed through.
    expect(scalar.serialize('2023-02-30T00:00:00.000Z')).toBe('2023-03-02T00:00:00.000Z');
  });
});
