import { configurationTable } from './variables.js';

const start = '<!-- configuration table: generated from src/config/variables.ts by `npm run docs` -->';
const end = '<!-- end of configuration table -->';

/** `readme` with the block between the markers replaced by the table rendered from `variables`. */
export function withConfigurationTable(readme: string): string {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md: expected the markers ${start} … ${end}`);
  return `${readme.slice(0, from + start.length)}\n\n${configurationTable()}\n\n${readme.slice(to)}`;
}
