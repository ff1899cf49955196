// A build output cached in a gitignored folder, rebuilt when the digest of its inputs changes, so
// repeated test runs skip the build and a clean clone (CI) builds once.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

function digest(inputs: string[]): string {
  const hash = createHash('sha256');
  for (const file of inputs) hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const stampOf = (dir: string): string | undefined => {
  const file = join(dir, 'STAMP');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
};

/**
 * Makes `dir` hold `build`'s output for these input files. Safe when several test files (run in
 * parallel by scripts/run-tests.mjs) ask at once: each builds into its own folder and renames it in.
 */
export function cachedBuild(dir: string, inputs: string[], build: (out: string) => void): void {
  const stamp = digest(inputs);
  if (stampOf(dir) === stamp) return;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    build(tmp);
    writeFileSync(join(tmp, 'STAMP'), stamp);
    if (stampOf(dir) === stamp) return; // another test file finished first
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (stampOf(dir) !== stamp) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
