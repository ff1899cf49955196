import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, cleanEnv, cli } from './bin';

/**
 * A checkout in miniature: the real bin.cjs, a main.ts and a compiled dist/src/cli/main.js that each say
 * which tree ran, and (optionally) the project's node_modules for tsx.
 */
function checkout(options: { tsx: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'checkout-'));
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
  copyFileSync(BIN, join(root, 'src', 'cli', 'bin.cjs'));
  writeFileSync(
    join(root, 'src', 'cli', 'main.ts'),
    "export async function runCli(): Promise<number> {\n  process.stdout.write('sources\\n');\n  return 0;\n}\n",
  );
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
  writeFileSync(compiled, "exports.runCli = async () => {\n  process.stdout.write('compiled\\n');\n  return 0;\n};\n");
  // The build is the newest thing in the tree, as right after `npm run build`.
  const later = new Date(Date.now() + 60_000);
  utimesSync(compiled, later, later);
  if (options.tsx) symlinkSync(join(__dirname, '..', '..', 'node_modules'), join(root, 'node_modules'), 'dir');
  return join(root, 'src', 'cli', 'bin.cjs');
}

describe('bin.cjs: which tree runs (D2)', () => {
  it('a checkout with a build in dist/ still runs the sources, so edits count and --sandbox finds src/sandbox/rules.yaml', () => {
    const r = cli([], cleanEnv(), { bin: checkout({ tsx: true }) });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'sources\n');
  });

  it('without tsx (no dev dependencies) the compiled tree runs; AUTOPILOT_CLI_COMPILED=1 chooses it explicitly', () => {
    assert.equal(cli([], cleanEnv(), { bin: checkout({ tsx: false }) }).out, 'compiled\n');
    const chosen = cli([], cleanEnv({ AUTOPILOT_CLI_COMPILED: '1' }), { bin: checkout({ tsx: true }) });
    assert.equal(chosen.out, 'compiled\n', chosen.err);
  });
});
