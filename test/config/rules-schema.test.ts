/**
 * The JSON Schema editors use for the rules file (config/rules.schema.json) is current: it is exactly
 * what `npm run build:rules-schema` generates from the loader's own schema, the example references it
 * through its modeline and validates against it, and it refuses what the loader refuses.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { RULES_SCHEMA_PATH, renderRulesJsonSchema } from '../../scripts/build/rules-schema';
import { schemaProblem } from '../../src/config/schema';

const REPO = join(__dirname, '..', '..');
const EXAMPLE = join(REPO, 'config', 'rules.example.yaml');
const committed = readFileSync(RULES_SCHEMA_PATH, 'utf8');

function compileCommitted() {
  // strict: the same mode the loader compiles in, so an unknown keyword in the file would fail here.
  return new Ajv({ strict: true, allErrors: true }).compile(JSON.parse(committed));
}

describe('config/rules.schema.json', () => {
  it('is what `npm run build:rules-schema` generates from src/config/schema.ts today', () => {
    assert.equal(committed, renderRulesJsonSchema(), 'config/rules.schema.json is stale: run `npm run build:rules-schema` and commit it');
  });

  it('`build:rules-schema --check` passes on the committed file and fails on a stale one', () => {
    const run = (out: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/build/rules-schema.ts'), '--check', '--out', out], {
        encoding: 'utf8',
        cwd: REPO,
      });
    const ok = run(RULES_SCHEMA_PATH);
    assert.equal(ok.status, 0, ok.stderr);
    const dir = mkdtempSync(join(tmpdir(), 'rules-schema-'));
    try {
      const stale = join(dir, 'rules.schema.json');
      writeFileSync(stale, committed.replace('"additionalProperties": false', '"additionalProperties": true'));
      const bad = run(stale);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /out of date/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is named by the modeline on the first line of config/rules.example.yaml', () => {
    const first = readFileSync(EXAMPLE, 'utf8').split('\n')[0];
    assert.equal(first, '# yaml-language-server: $schema=./rules.schema.json');
  });

  it('accepts config/rules.example.yaml', () => {
    const validate = compileCommitted();
    const ok = validate(parse(readFileSync(EXAMPLE, 'utf8')));
    assert.equal(ok, true, JSON.stringify(validate.errors));
  });

  it('refuses what the loader refuses: a misspelt key, a wrong enum value, a non-GUID subscription', () => {
    const validate = compileCommitted();
    const example = parse(readFileSync(EXAMPLE, 'utf8'));
    const variants: Array<[string, (doc: any) => void]> = [
      ['misspelt rule key', (doc) => (doc.rules[0].tagSelectableProfile = ['x'])],
      ['unknown identity kind', (doc) => (doc.rules[0].identity.kind = 'Both')],
      ['non-GUID subscription', (doc) => (doc.scope.subscriptions = ['prod'])],
      ['missing rules', (doc) => delete doc.rules],
    ];
    for (const [label, mutate] of variants) {
      const doc = structuredClone(example);
      mutate(doc);
      assert.equal(validate(doc), false, `${label}: the editor schema accepted it`);
      assert.notEqual(schemaProblem(doc), undefined, `${label}: the loader accepted it`);
    }
  });
});
