import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { type DependencyRules, importGraph, REPO_ROOT, sourceFiles, violations } from './import-graph';

/**
 * The dependency rules of the repository as an allow-list: an import from one area of src/ to another
 * is allowed only when this table names it, so a new arrow fails here until someone decides it belongs
 * (and says why in the table). Read from the source files themselves, not from a build.
 *
 * From the bottom up: the ARM vocabulary (arm, errors, text) imports nothing; config and engine are
 * pure (no adapter, no composition root, no telemetry); the adapters (azure, ledger, sweep, outcomes,
 * outcome-events, telemetry) serve the composition root (app); the entry points (functions, http, cli,
 * sandbox) are the only ones to reach the composition root.
 */
export const RULES: DependencyRules = {
  areas: {
    'abortable-sleep': [],
    errors: [],
    text: [],
    arm: ['errors'],
    settings: ['errors'],
    config: ['arm', 'errors'],
    // text: remedies name shell commands quoted by text/shell-word.
    engine: ['abortable-sleep', 'arm', 'config', 'errors', 'text'],
    events: ['arm', 'errors'],
    logging: [],
    outcomes: ['engine', 'logging'],
    'outcome-events': ['engine', 'outcomes'],
    ledger: ['engine', 'errors', 'outcomes', 'settings'],
    telemetry: ['arm', 'engine', 'logging', 'outcomes'],
    azure: ['abortable-sleep', 'arm', 'config', 'engine', 'errors', 'telemetry', 'text'],
    sweep: ['abortable-sleep', 'arm', 'azure', 'config', 'engine', 'errors', 'logging', 'outcomes', 'settings', 'telemetry', 'text'],
    app: [
      'abortable-sleep',
      'arm',
      'azure',
      'config',
      'engine',
      'errors',
      'ledger',
      'logging',
      'outcome-events',
      'outcomes',
      'settings',
      'sweep',
      'telemetry',
      'text',
    ],
    // Entry points. http is the HTTP trigger's parsing and access layer: it never reaches the app; its
    // OpenAPI document is derived from the outcome and ledger-row schemas.
    http: ['ledger', 'outcomes', 'settings'],
    functions: ['app', 'arm', 'config', 'errors', 'events', 'http', 'ledger', 'logging', 'outcomes', 'settings', 'sweep', 'telemetry'],
    cli: ['app', 'arm', 'config', 'engine', 'errors', 'ledger', 'logging', 'sandbox', 'settings', 'sweep', 'text'],
    // The embedded default: the app composed over the ARM emulator's public surface.
    sandbox: ['app', 'arm', 'config', 'functions', 'ledger', 'settings', 'sweep', 'tools/arm-emulator'],
  },
  compositionRoot: 'src/app/composition.ts',
  entryPoints: ['functions', 'cli', 'sandbox'],
  publicSurfaces: { 'tools/arm-emulator': 'tools/arm-emulator/index.ts' },
  catalogueFolder: 'src/azure/resource-types',
  catalogueShared: ['index.ts', 'model.ts', 'identity-spelling.ts'],
};

describe('dependency allow-list (src/)', () => {
  const graph = importGraph(REPO_ROOT);

  it('every import between areas of src/ is one the table allows', () => {
    assert.deepEqual(violations(graph, RULES), []);
  });

  it('src/ never imports test/, and reaches tools/ only through a public surface', () => {
    const found = graph.filter((e) => e.from.startsWith('src/') && (e.to.startsWith('test/') || e.to.startsWith('tools/')));
    assert.ok(
      found.every((e) => !e.to.startsWith('test/')),
      'src imports test',
    );
    assert.deepEqual(
      found.filter((e) => !Object.values(RULES.publicSurfaces).includes(e.to)).map((e) => `${e.from} -> ${e.to}`),
      [],
    );
  });

  it('src/engine and src/config record no telemetry themselves: no OpenTelemetry or Azure Monitor package', () => {
    const sdk = /(?:from\s+|import\(\s*|require\(\s*)['"](@opentelemetry\/[^'"]+|@azure\/monitor-opentelemetry[^'"]*)['"]/g;
    const found = sourceFiles(join(REPO_ROOT, 'src', 'engine'))
      .concat(sourceFiles(join(REPO_ROOT, 'src', 'config')))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(sdk)].map((m) => `${relative(REPO_ROOT, file)} imports ${m[1]}`));
    assert.deepEqual(found, []);
  });

  it('the check reads real imports: the composition root is imported, and the sandbox reaches the emulator', () => {
    assert.ok(graph.some((e) => e.to === RULES.compositionRoot && e.from.startsWith('src/functions/')));
    assert.ok(graph.some((e) => e.from.startsWith('src/sandbox/') && e.to === 'tools/arm-emulator/index.ts'));
  });

  // A rule table that never fails proves nothing: each kind of arrow against it is reported.
  describe('fails when an arrow is added against it', () => {
    const withEdge = (from: string, to: string) => [...graph, { from, to }];
    const cases: Array<[string, string, string, RegExp]> = [
      ['src imports test', 'src/engine/plan.ts', 'test/support/assertions.ts', /src\/engine\/plan\.ts imports test\//],
      ['the engine imports an adapter', 'src/engine/plan.ts', 'src/azure/clients.ts', /engine may not import azure/],
      ['a layer not in the table', 'src/arm/resource-id.ts', 'src/config/index.ts', /arm may not import config/],
      ['http reaches the app', 'src/http/access.ts', 'src/app/resource-claims.ts', /http may not import app/],
      [
        'an adapter imports the composition root',
        'src/sweep/report.ts',
        'src/app/composition.ts',
        /only entry points import the composition root/,
      ],
      [
        'src reaches into a tool',
        'src/sandbox/run.ts',
        'tools/arm-emulator/seed.ts',
        /tools\/arm-emulator\/seed\.ts is not a public surface/,
      ],
      [
        'per-type knowledge around the catalogue',
        'src/sweep/queries.ts',
        'src/azure/resource-types/managed-clusters.ts',
        /per-type module .* outside the catalogue/,
      ],
    ];
    for (const [name, from, to, message] of cases) {
      it(name, () => {
        const found = violations(withEdge(from, to), RULES);
        assert.ok(
          found.some((v) => message.test(v)),
          `expected a violation matching ${message}, got ${JSON.stringify(found)}`,
        );
      });
    }
  });
});
