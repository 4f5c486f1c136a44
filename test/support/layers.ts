import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layers of `src/`, and what each may import. Imports run one way: HTTP (main, server,
 * context, plugins) → schema → auth, loaders → rate limits → domain → client. A unit is a folder
 * of src/ or a file at its top; `sandbox/main` is an entry point of its own. A new folder or
 * top-level file must be added here, and an import that is not listed fails `npm test`.
 */
export const layers: Record<string, readonly string[]> = {
  client: [],
  sandbox: [],
  logger: [],
  graphiql: [],
  drain: [],
  config: ['sandbox'],
  domain: ['client'],
  'rate-limits': ['config', 'domain'],
  metrics: ['client', 'domain'],
  audit: ['domain', 'logger'],
  tracing: [],
  loaders: ['client', 'domain', 'rate-limits'],
  redis: ['loaders', 'logger', 'rate-limits'],
  auth: ['config', 'domain'],
  schema: ['auth', 'domain', 'loaders'],
  plugins: ['auth', 'client', 'config', 'domain', 'logger', 'tracing'],
  'hot-path': ['auth', 'domain', 'logger', 'plugins'],
  context: [
    'audit',
    'auth',
    'client',
    'config',
    'domain',
    'loaders',
    'logger',
    'plugins',
    'rate-limits',
    'schema',
  ],
  server: [
    'audit',
    'auth',
    'client',
    'config',
    'context',
    'graphiql',
    'hot-path',
    'loaders',
    'logger',
    'metrics',
    'plugins',
    'rate-limits',
    'schema',
  ],
  crash: ['logger', 'plugins'],
  banner: ['sandbox'],
  main: [
    'redis',
    'tracing',
    'audit',
    'auth',
    'banner',
    'client',
    'config',
    'crash',
    'drain',
    'logger',
    'metrics',
    'plugins',
    'sandbox',
    'server',
  ],
  'sandbox/main': ['config', 'sandbox'],
};

export const src = resolve(fileURLToPath(new URL('../../src', import.meta.url)));

/** The unit a path under src/ belongs to. */
export function unitOf(path: string): string {
  // Specifiers name the emitted .js file; sources are .ts.
  const rel = relative(src, path)
    .replaceAll('\\', '/')
    .replace(/\.[jt]s$/, '');
  if (rel === 'sandbox/main') return rel;
  return rel.split('/')[0] ?? rel;
}

/** Every relative module specifier a source text imports or re-exports, static or dynamic. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    if (match[1]) found.push(match[1]);
  }
  return found;
}

/** The imports of `file` (with text `text`) that its unit may not make, as readable lines. */
export function violations(file: string, text: string): string[] {
  const from = unitOf(file);
  const allowed = layers[from];
  if (!allowed) return [`${relative(src, file)}: unit "${from}" is not declared in the layer table`];
  const wrong: string[] = [];
  for (const specifier of importsOf(text)) {
    const to = unitOf(resolve(dirname(file), specifier));
    if (to !== from && !allowed.includes(to)) {
      wrong.push(`${relative(src, file)} imports ${specifier}: ${from} may not depend on ${to}`);
    }
  }
  return wrong;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}
