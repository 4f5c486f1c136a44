#!/usr/bin/env node
// Runs every vitest test and ends with one plain line, `N passed, N failed, N skipped`, read by CI.
// Exits non-zero when a test failed, when vitest itself failed, or when no test ran at all.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'vitest-report-'));
const report = join(dir, 'report.json');
const run = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

let summary;
try {
  summary = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  summary = undefined;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const passed = summary?.numPassedTests ?? 0;
// A file that fails to load has no test results of its own: count it as one failure.
const brokenFiles = (summary?.testResults ?? []).filter(
  (file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0,
).length;
const failed = (summary?.numFailedTests ?? 0) + brokenFiles;
const skipped = (summary?.numPendingTests ?? 0) + (summary?.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (summary === undefined) console.error('run-tests: vitest wrote no JSON report');
if (passed === 0) console.error('run-tests: no test ran');
process.exit(run.status !== 0 || failed > 0 || passed === 0 || summary === undefined ? 1 : 0);
