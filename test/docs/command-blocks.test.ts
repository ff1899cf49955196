import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CommandBlock, commandBlocks, documentationFiles, fencedBlocks, isShell, NOT_RUN_MARKERS, readDoc } from './doc-blocks';

/**
 * Every command block of README.md and docs/*.md that needs no Azure runs here, so the docs cannot drift
 * from the product. Each block runs on its own fresh copy of the repository (the files git tracks or
 * would track, no config/rules.yaml, no dist/): a block that works only after an earlier one fails, as
 * it would for a reader who pastes it on a fresh clone.
 */
const REPO = resolve(__dirname, '../..');
const BLOCK_TIMEOUT_MS = 180_000;

/** What a fresh clone holds: tracked files plus new ones not ignored (as they will be once committed). */
function cloneFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
  return [...new Set(out.split('\0').filter(Boolean))].filter((file) => existsSync(join(REPO, file)));
}

/**
 * One path for every copy, fixed per repository: tsx caches what it compiled by file path and content, so
 * the second block on the same path starts in a third of the time (the copies are removed in between).
 */
const COPY_ROOT = join(tmpdir(), `identity-autopilot-doc-blocks-${createHash('sha256').update(REPO).digest('hex').slice(0, 12)}`);
after(() => rmSync(COPY_ROOT, { recursive: true, force: true }));
let files: string[] | undefined;

function freshCopy(): string {
  files ??= cloneFiles();
  const root = COPY_ROOT;
  rmSync(root, { recursive: true, force: true });
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(root, file));
  }
  // `npm ci` done once: the copy uses the repository's installed packages.
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

/** The reader's shell: no test-runner context, no coverage sink, no settings of this process. */
function readerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('NODE_TEST') || key === 'SPEC_COVERAGE_DIR' || key.startsWith('AUTOPILOT_') || key.startsWith('AZURE_')) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1' };
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

describe('command blocks in the docs', () => {
  const docs = documentationFiles(REPO).map((file) => ({ file, text: readDoc(REPO, file) }));

  it('every shell block either runs here or says why not (azure, slow)', () => {
    const unknown = docs
      .flatMap(({ file, text }) => fencedBlocks(file, text))
      .filter(isShell)
      .flatMap((b) => b.markers.filter((m) => !NOT_RUN_MARKERS.has(m)).map((m) => `${b.file}:${b.line}: '${m}'`));
    assert.deepEqual(unknown, [], 'markers other than azure and slow (a typo would silently skip a block)');
  });

  it('the README has runnable blocks (the test would pass vacuously otherwise)', () => {
    assert.ok(commandBlocks('README.md', readDoc(REPO, 'README.md')).length >= 3);
  });

  // A block repeated word for word (the README's step and the doc it links to) runs once, checked for
  // the output every copy documents.
  const unique = new Map<string, CommandBlock>();
  for (const block of docs.flatMap(({ file, text }) => commandBlocks(file, text))) {
    const seen = unique.get(block.body);
    if (seen) seen.expectedOutput.push(...block.expectedOutput.filter((l) => !seen.expectedOutput.includes(l)));
    else unique.set(block.body, { ...block, expectedOutput: [...block.expectedOutput] });
  }
  for (const block of unique.values()) {
    const { file, line, body } = block;
    const first = body.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
    it(`${file}:${line} runs on a fresh clone: ${first.trim().slice(0, 70)}`, () => {
      const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', body], {
        cwd: freshCopy(),
        env: readerEnv(),
        encoding: 'utf8',
        timeout: BLOCK_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      });
      const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
      assert.equal(run.status, 0, `${file}:${line} exited ${run.status ?? run.signal}:\n${body}\n--- output ---\n${tail(output)}`);
      const missing = block.expectedOutput.filter((expected) => !output.includes(expected));
      assert.deepEqual(missing, [], `${file}:${line}: lines of the documented output not printed\n--- output ---\n${tail(output)}`);
    });
  }
});
