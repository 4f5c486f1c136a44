#!/usr/bin/env node
/**
 * `npm start` and `npm run sandbox`: build dist/ when it is missing or older than src/ (so
 * `npm ci && npm start` works on a fresh clone), then run the compiled entry in this process.
 * Production runs the entry directly (`node dist/main.js`), with no npm and no launcher.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'dist', process.argv[2] ?? 'main.js');
const stamp = join(root, 'dist', 'main.js');

function newest(dir) {
  let latest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    latest = Math.max(latest, item.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
if (built < sources) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write(
      existsSync(stamp)
        ? 'circle-auth-gateway: dist/ is older than src/ and TypeScript is not installed; running dist/ as it is\n'
        : 'circle-auth-gateway: dist/ is missing and TypeScript is not installed: run `npm ci && npm run build`\n',
    );
    if (!existsSync(stamp)) process.exit(1);
  }
  if (tsc) {
    process.stderr.write('circle-auth-gateway: building dist/ (npm run build)\n');
    const build = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
      stdio: 'inherit',
    });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
}
if (process.argv[2] !== '--build-only') await import(pathToFileURL(entry).href);
