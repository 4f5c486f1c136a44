#!/usr/bin/env node
// Runs every vitest test and ends with one plain line, `N passed, N failed, N skipped`, read by CI.
// Exits non-zero when a test failed, when vitest itself failed, or when no test ran at all.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
// TEST_LABEL (one word) names the run when CI runs the suite on several Node versions; CI adds the
// counts up from TEST_SUMMARY_FILE and prints the plain total last.
const label = process.env.TEST_LABEL ? `${process.env.TEST_LABEL}: ` : '';
console.log(`${label}${passed} passed, ${failed} failed, ${skipped} skipped`);
if (process.env.TEST_SUMMARY_FILE)
  appendFileSync(process.env.TEST_SUMMARY_FILE, `${passed} ${failed} ${skipped}\n`);
if (summary === undefined) console.error('run-tests: vitest wrote no JSON report');
if (passed === 0) console.error('run-tests: no test ran');
process.exit(run.status !== 0 || failed > 0 || passed === 0 || summary === undefined ? 1 : 0);
