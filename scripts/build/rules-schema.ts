/**
 * `npm run build:rules-schema [-- --check]`
 *
 * Writes config/rules.schema.json, the JSON Schema editors use for the rules file (the example's
 * `# yaml-language-server: $schema=./rules.schema.json` modeline points at it), from RULES_FILE_SCHEMA
 * in src/config/schema.ts: the very object the loader compiles with ajv, so the editor and the app
 * can never disagree about structure. Semantic checks (profiles exist, roles allowed, templates
 * resolve) stay in the loader; `identity-autopilot validate` reports those.
 *
 * `--check` writes nothing and exits 1 when the committed file is not what the schema generates
 * (run it after any change to schema.ts; test/config/rules-schema.test.ts does the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RULES_FILE_SCHEMA } from '../../src/config/schema';

export const RULES_SCHEMA_PATH = join(__dirname, '..', '..', 'config', 'rules.schema.json');

/**
 * ajv 8's default dialect is draft-07 (the loader constructs `new Ajv()`), and draft-07 is also what
 * the YAML language server assumes for a schema without `$schema`; naming it keeps both explicit.
 */
export const RULES_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/** The rules file schema as a standalone JSON Schema document. */
export function rulesJsonSchema(): Record<string, unknown> {
  return {
    $schema: RULES_SCHEMA_DIALECT,
    title: 'identity-autopilot rules file',
    description:
      'GENERATED from src/config/schema.ts by `npm run build:rules-schema`; do not edit. Structure only: the app also checks that profiles exist, roles are allowed and templates resolve (`identity-autopilot validate <rules.yaml>`).',
    ...RULES_FILE_SCHEMA,
  };
}

/** The file's exact text: stable key order (the schema's own), two-space indentation, final newline. */
export function renderRulesJsonSchema(): string {
  return `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`;
}

function main(): void {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const out = values.out ?? RULES_SCHEMA_PATH;
  const text = renderRulesJsonSchema();
  if (values.check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      // missing: reported as out of date below
    }
    if (current !== text) {
      process.stderr.write(`build:rules-schema: ${out} is out of date with src/config/schema.ts; run npm run build:rules-schema\n`);
      process.exit(1);
    }
    process.stdout.write(`build:rules-schema: ${out} is up to date\n`);
    return;
  }
  writeFileSync(out, text);
  process.stdout.write(`build:rules-schema: wrote ${out}\n`);
}

if (require.main === module) main();
