import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The repository holds only code its authors wrote, plus registry dependencies. Copied third-party
 * source arrives with its licence or a provenance note beside it, so another project's LICENSE,
 * COPYING or PROVENANCE.md anywhere is the sign of a copy. The one exception is stored data with a
 * stated source: the official REST specs and examples the ARM emulator validates against.
 */
const REPO = resolve(__dirname, '../..');

/**
 * The folder of stored spec and example data, where a PROVENANCE.md (and an upstream licence) belongs.
 * The emulator may move to tools/arm-emulator/, so both homes are allowed; keep this the only list.
 */
const STORED_SPEC_FOLDERS = ['test/emulator/specs/', 'tools/arm-emulator/specs/'];

/** The repository's own licence. */
const OUR_LICENCE = 'LICENSE';

/** LICENSE, LICENCE.txt, COPYING.md, PROVENANCE.md in any case; LICENSE-MIT style only in capitals. */
const LICENCE_OR_PROVENANCE = [/^(LICEN[CS]E|COPYING)(\..+)?$/i, /^PROVENANCE\.md$/i, /^(LICEN[CS]E|COPYING)-[A-Z0-9.-]+$/];

/** The paths among `paths` (repository-relative, `/`-separated) that mark code copied from elsewhere. */
export function foreignCodeMarkers(paths: string[]): string[] {
  return paths.filter(
    (path) =>
      LICENCE_OR_PROVENANCE.some((name) => name.test(posix.basename(path))) &&
      path !== OUR_LICENCE &&
      !STORED_SPEC_FOLDERS.some((folder) => path.startsWith(folder)),
  );
}

/** Tracked files and new ones not yet added (not the ignored build caches and node_modules). */
function repositoryFiles(): string[] {
  const listing = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
  return listing.split('\0').filter(Boolean);
}

describe('only code we wrote', () => {
  it('no licence, COPYING or provenance file of another project outside the stored spec data', () => {
    const files = repositoryFiles();
    assert.ok(files.includes('package.json'), 'git lists the repository');
    assert.deepEqual(foreignCodeMarkers(files), []);
  });

  it('the root LICENSE is our own', () => {
    assert.match(readFileSync(join(REPO, OUR_LICENCE), 'utf8'), /Copyright \(c\) \d{4} The identity-autopilot authors/);
  });

  it('a copied project is caught by its licence or provenance note, wherever it sits and however it is spelt', () => {
    const copied = [
      'test/functions-host/worker/LICENSE',
      'vendor/lib/PROVENANCE.md',
      'tools/x/COPYING',
      'src/third/LICENSE.txt',
      'a/LICENSE-MIT',
      'b/License.md',
    ];
    assert.deepEqual(foreignCodeMarkers(copied), copied);
  });

  it('stored spec data in either home and our own LICENSE are allowed; look-alike names are not markers', () => {
    const allowed = [
      'LICENSE',
      'test/emulator/specs/PROVENANCE.md',
      'tools/arm-emulator/specs/LICENSE',
      'docs/licensing.md',
      'src/config/license-check.ts',
    ];
    assert.deepEqual(foreignCodeMarkers(allowed), []);
  });
});
