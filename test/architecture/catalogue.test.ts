import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SUPPORTED_RESOURCE_TYPES } from '../../src/arm/resource-types';

/**
 * The catalogue (src/arm/resource-types.ts) is the one list of supported types. Code lists are keyed
 * by its type union and fail to compile when it grows; what cannot be derived (Bicep, YAML, the README)
 * is held against it here, and no other code may keep a list of its own.
 */
const REPO = resolve(__dirname, '../..');
const CATALOGUE = [...SUPPORTED_RESOURCE_TYPES];

const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(REPO, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'specs') return [];
    return statSync(join(REPO, path)).isDirectory() ? files(path, ext) : ext.test(name) ? [path] : [];
  });
}

/** The default of `param governedResourceTypes string[] = [ ... ]` in a Bicep file. */
function bicepDefaultList(text: string, param: string): string[] {
  const m = new RegExp(`param ${param} string\\[\\] = \\[([^\\]]*)\\]`).exec(text);
  assert.ok(m, `param ${param} with a list default`);
  return [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
}

/** Modules that hold a catalogued-type literal per type, each keyed by the type union (a missing entry does not compile). */
const KEYED_BY_THE_UNION = new Set([
  'src/arm/resource-types.ts',
  'src/azure/resource-types/index.ts',
  'tools/arm-emulator/resource-types/index.ts',
  'tools/arm-emulator/rp-models.ts',
  'tools/arm-emulator/seed.ts',
  'bench/remediation.ts',
]);

/** One or two type names are a module's own type, or a sample; three or more are a list. */
const HAND_KEPT_LIST = 3;

/** The catalogued types a source text names as string literals, in any spelling, as the catalogue spells them. */
function catalogueNamesIn(text: string): Set<string> {
  const literal = new RegExp(`['"\`](${CATALOGUE.map((t) => t.replace(/[./]/g, '\\$&')).join('|')})['"\`]`, 'gi');
  const canonical = new Map(CATALOGUE.map((t) => [t.toLowerCase(), t]));
  return new Set([...text.matchAll(literal)].map((m) => canonical.get(m[1]!.toLowerCase())!));
}

describe('the resource-type catalogue', () => {
  it('the Event Grid filter (infra/event-subscription.bicep) delivers exactly the catalogued types', () => {
    assert.deepEqual(bicepDefaultList(read('infra/event-subscription.bicep'), 'governedResourceTypes'), CATALOGUE);
  });

  it('config/rules.example.yaml governs exactly the catalogued types', () => {
    const example = parse(read('config/rules.example.yaml')) as { scope: { resourceTypes: string[] } };
    assert.deepEqual(example.scope.resourceTypes, CATALOGUE);
  });

  it("the README's comparison row counts the catalogued types", () => {
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
    const row = read('README.md')
      .split('\n')
      .find((l) => l.startsWith('| resource types whose identity it can enable'));
    assert.ok(row, 'the comparison table row');
    assert.match(row, new RegExp(`\\| all ${words[CATALOGUE.length]} above \\|$`));
  });

  it('docs/architecture.md points at the catalogue rather than copying it', () => {
    const doc = read('docs/architecture.md');
    assert.match(doc, /src\/arm\/resource-types\.ts/);
  });

  it('no other module of src, tools, bench or scripts keeps a list of the catalogued types by hand', () => {
    const lists = ['src', 'tools', 'bench', 'scripts']
      .flatMap((dir) => files(dir, /\.ts$/))
      .filter((file) => !KEYED_BY_THE_UNION.has(file.split('\\').join('/')))
      .map((file) => ({ file, types: catalogueNamesIn(read(file)) }))
      .filter(({ types }) => types.size >= HAND_KEPT_LIST)
      .map(({ file, types }) => `${relative(REPO, join(REPO, file))}: ${[...types].join(', ')}`);
    assert.deepEqual(lists, []);
  });

  it('the hand-kept list check sees a list in any spelling (ARM types are case-insensitive)', () => {
    const lowerCaseKeys = CATALOGUE.slice(0, HAND_KEPT_LIST).map((t) => `  '${t.toLowerCase()}': {},`);
    assert.equal(catalogueNamesIn(`const BY_TYPE = {\n${lowerCaseKeys.join('\n')}\n};`).size, HAND_KEPT_LIST);
  });

  it('per-type modules are reached only through src/azure/resource-types/index.ts', () => {
    const modules = readdirSync(join(REPO, 'src/azure/resource-types'))
      .map((n) => n.replace(/\.ts$/, ''))
      .filter((n) => !['index', 'model', 'identity-spelling'].includes(n));
    const reachingIn = files('src', /\.ts$/)
      .filter((file) => !file.split('\\').join('/').startsWith('src/azure/resource-types/'))
      .flatMap((file) =>
        modules.filter((m) => read(file).includes(`resource-types/${m}'`)).map((m) => `${file} imports resource-types/${m}`),
      );
    assert.deepEqual(reachingIn, []);
  });
});
