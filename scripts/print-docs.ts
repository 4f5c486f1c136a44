/** `npm run docs`: rewrites the README's configuration table from src/config/variables.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigurationTable } from '../src/config/readme.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withConfigurationTable(readFileSync(readme, 'utf8')));
console.log('README.md configuration table written');
