// Runs every test file under test/ with node's own test runner, TypeScript loaded by tsx.
// Node 20's --test does not expand globs itself, so the file list is built here.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = testFiles('test')
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Every test file's emulator leaves its spec coverage here; the sum is printed at the end.
const coverageDir = mkdtempSync(join(tmpdir(), 'spec-coverage-'));
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, SPEC_COVERAGE_DIR: coverageDir },
});
spawnSync(process.execPath, ['--import', 'tsx', 'tools/arm-emulator/print-coverage.ts', coverageDir], { stdio: 'inherit' });
rmSync(coverageDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
