import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layers of `src/`, `bench/`, `scripts/` and `support/`, and what each may import. Imports run
 * one way: the doors (main, server, the front door in hot-path/, yoga's plugins) → per-request
 * state and lifecycle (request/) → schema → auth, loaders → rate limits → domain → client. A unit
 * is a folder of src/ or a file at its top (`sandbox/main` is an entry point of its own), or one of
 * the repository's other folders of code. A new folder or top-level file must be added here, and an
 * import that is not listed fails `npm test`. test/ may import anything.
 */
export const layers: Record<string, readonly string[]> = {
  client: [],
  config: [],
  sandbox: ['config'],
  logger: [],
  graphiql: [],
  drain: [],
  domain: ['client'],
  'rate-limits': ['config', 'domain'],
  metrics: ['client', 'domain', 'request'],
  audit: ['domain', 'logger'],
  tracing: [],
  loaders: ['client', 'domain', 'rate-limits'],
  // Sessions: the service and its store's contract; Redis implements the store (redis/sessions.ts).
  sessions: ['audit', 'config', 'domain', 'loaders', 'logger'],
  redis: ['domain', 'logger', 'rate-limits', 'sessions'],
  auth: ['config', 'domain'],
  schema: ['auth', 'domain', 'loaders', 'sessions'],
  // Per-request state (request id, caller, access record, trace) and the lifecycle both doors walk.
  request: ['domain', 'logger', 'tracing'],
  plugins: ['auth', 'client', 'config', 'domain', 'logger', 'request'],
  'hot-path': ['auth', 'domain', 'logger', 'request'],
  context: [
    'audit',
    'auth',
    'client',
    'config',
    'domain',
    'loaders',
    'logger',
    'rate-limits',
    'request',
    'schema',
    'sessions',
  ],
  server: [
    'audit',
    'auth',
    'client',
    'config',
    'context',
    'domain',
    'graphiql',
    'hot-path',
    'loaders',
    'logger',
    'metrics',
    'plugins',
    'rate-limits',
    'request',
    'schema',
    'sessions',
  ],
  crash: ['logger', 'request'],
  'start-up': ['audit', 'config', 'logger', 'metrics', 'redis', 'sandbox'],
  signals: ['auth', 'config', 'drain', 'logger'],
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
    'request',
    'sandbox',
    'server',
    'signals',
    'start-up',
  ],
  'sandbox/main': ['config', 'sandbox'],
  // Outside src/: the Redis launcher tests and benchmarks share, the benchmarks (which run the
  // built gateway as a process, never its modules), the build scripts, the compose supergraph.
  support: [],
  bench: ['support'],
  deploy: ['schema'],
  scripts: ['config', 'deploy', 'schema'],
};

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const src = join(root, 'src');
/** The folders whose imports the table governs. */
export const governed = ['src', 'bench', 'scripts', 'support', 'deploy'].map((dir) => join(root, dir));

/** The unit a path belongs to: a unit of src/, or a folder of the repository. */
export function unitOf(path: string): string {
  // Specifiers name the emitted .js file; sources are .ts.
  const rel = relative(src, path)
    .replaceAll('\\', '/')
    .replace(/\.[jt]s$/, '');
  if (rel.startsWith('../')) return relative(root, path).replaceAll('\\', '/').split('/')[0] ?? rel;
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
  if (!allowed) return [`${relative(root, file)}: unit "${from}" is not declared in the layer table`];
  const wrong: string[] = [];
  for (const specifier of importsOf(text)) {
    const to = unitOf(resolve(dirname(file), specifier));
    if (to !== from && !allowed.includes(to)) {
      wrong.push(`${relative(root, file)} imports ${specifier}: ${from} may not depend on ${to}`);
    }
  }
  return wrong;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts') || entry.name.endsWith('.mjs')
        ? [join(dir, entry.name)]
        : [],
  );
}
