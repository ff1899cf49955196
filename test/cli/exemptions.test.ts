import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
const EXAMPLE_RULES = join(__dirname, '..', '..', 'config', 'rules.example.yaml');

/** `identity-autopilot validate <file> [args]` with the real binary, on a copy of `text`. */
function validate(text: string, ...args: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'rules.yaml');
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [BIN, 'validate', file, ...args], { encoding: 'utf8', timeout: 60_000, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr, file };
}

/** The example file with its commented `exemptions:` block turned on. */
function exampleWithExemptions(extra = ''): string {
  const text = readFileSync(EXAMPLE_RULES, 'utf8');
  const at = text.indexOf('# exemptions:');
  assert.ok(at > 0, 'the example keeps a commented exemptions block');
  return `${text.slice(0, at)}${text.slice(at).replace(/^# ?/gm, '')}${extra}`;
}

describe('validate: exemptions (real binary)', () => {
  it("the example's commented exemptions are valid once uncommented", () => {
    const r = validate(exampleWithExemptions(), '-o', 'json');
    assert.equal(r.code, 0, r.out + r.err);
    const result = JSON.parse(r.out);
    assert.deepEqual(result.problems, []);
  });

  it('warns about an expired entry, with its key path and line, and still exits 0', () => {
    const expired = '  - name: "old-*"\n    category: waiver\n    reason: "pilot finished"\n    expiresOn: 2020-01-31T00:00:00Z\n';
    const r = validate(exampleWithExemptions(expired));
    assert.equal(r.code, 0, r.out + r.err);
    const lines = r.out.trimEnd().split('\n');
    const line = exampleWithExemptions(expired).split('\n').indexOf('    expiresOn: 2020-01-31T00:00:00Z') + 1;
    assert.equal(
      lines[0],
      `${r.file}:${line}: warning: exemptions[2].expiresOn: expired on 2020-01-31T00:00:00Z: it no longer applies, and the next sweep remediates what it covered. Remove the entry, or give it a new expiresOn`,
    );
    assert.equal(lines.at(-1), `${r.file}: valid (1 warning)`);
  });

  it('a waiver without expiresOn is an error (exit 1) naming the key and the way out', () => {
    const r = validate(exampleWithExemptions('  - name: forever\n    category: waiver\n    reason: "no end"\n'));
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /: error: exemptions\[2\]\.expiresOn: is required for a waiver .*use category 'mitigated'/);
  });
});
