import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The dependency rules of the architecture: the ARM vocabulary (src/arm) at the bottom, config and
 * engine pure (nothing from the Azure adapters), lower layers never reaching up into the composition
 * root. Read from the source, so a stray import fails here rather than in review.
 */
const SRC = resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a file, as src-relative folder names of their targets. */
function importedAreas(file: string): string[] {
  // A module outside any folder (src/errors.ts) counts by its name without the extension.
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((spec) => relative(SRC, resolve(dirname(file), spec)).split(/[\\/]/)[0]!.replace(/\.ts$/, ''));
}

function violations(area: string, forbidden: string[]): string[] {
  return sourceFiles(join(SRC, area)).flatMap((file) =>
    importedAreas(file)
      .filter((target) => forbidden.includes(target))
      .map((target) => `${relative(SRC, file)} imports src/${target}`),
  );
}

describe('layering (src/)', () => {
  it('src/arm imports nothing but itself and errors', () => {
    const found = sourceFiles(join(SRC, 'arm')).flatMap((file) =>
      importedAreas(file)
        .filter((t) => t !== 'arm' && t !== 'errors')
        .map((t) => `${relative(SRC, file)} imports src/${t}`),
    );
    assert.deepEqual(found, []);
  });

  it('src/config and src/engine import nothing from src/azure or src/app', () => {
    assert.deepEqual([...violations('config', ['azure', 'app', 'engine']), ...violations('engine', ['azure', 'app'])], []);
  });

  it('src/ledger, src/sweep and src/outcome-events do not reach up into the composition root', () => {
    assert.deepEqual([...violations('ledger', ['app', 'functions']), ...violations('sweep', ['app', 'functions']), ...violations('outcome-events', ['app', 'functions'])], []);
  });

  it('src/engine and src/config record no telemetry themselves: no src/telemetry, no OpenTelemetry or Azure Monitor package', () => {
    const sdk = /(?:from\s+|import\(\s*|require\(\s*)['"](@opentelemetry\/[^'"]+|@azure\/monitor-opentelemetry[^'"]*)['"]/g;
    const packages = ['engine', 'config'].flatMap((area) =>
      sourceFiles(join(SRC, area)).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(sdk)].map((m) => `${relative(SRC, file)} imports ${m[1]}`)),
    );
    assert.deepEqual([...violations('engine', ['telemetry']), ...violations('config', ['telemetry']), ...packages], []);
  });

  it('src/telemetry is importable from the adapters and the app: it reaches into none of them', () => {
    assert.deepEqual(violations('telemetry', ['app', 'functions', 'azure', 'sweep', 'ledger', 'outcome-events', 'cli']), []);
  });

  it('the check is really reading imports: src/app does import src/azure', () => {
    assert.ok(violations('app', ['azure']).length > 0);
  });
});
