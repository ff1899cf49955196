/**
 * Issue 23 item 6: names, tags and component metadata are chosen by resource creators, and every
 * `--output` format prints them. A raw ESC (or 8-bit CSI, U+009B) lets such a name rewrite the
 * terminal (clear it, set the window title, hide the lines after it); a bidi override (U+202E) makes
 * it read differently from what it is. tsv and table show them as U+FFFD, as the commands' own tables
 * do; JSON and YAML escape them as \uXXXX so the output stays valid and reads back the same value.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { formatResult, type OutputFormat } from '../../src/cli/output';

// ESC [2J (clear screen), OSC 0 (window title) ended by BEL, 8-bit CSI 31m, a right-to-left override,
// a zero-width space, DEL, a C1 NEL and a line separator.
const HOSTILE_NAME = 'app\u001b[2J\u001b]0;owned\u0007-\u009b31m\u202egnp.exe\u200b\u007f\u0085\u2028end';
const HOSTILE_KEY = 'tag\u202e\u009b';
const RESULT = [{ name: HOSTILE_NAME, tags: { [HOSTILE_KEY]: HOSTILE_NAME }, [HOSTILE_KEY]: 'v\u001b[0m' }];
// Anything a terminal would act on, or that reorders or hides text.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029]/;

function render(format: OutputFormat, queryActive = false): string {
  return formatResult(RESULT, format, { color: false, queryActive });
}

/** The result as the JSON output reads back (keys sorted), to compare the YAML with. */
const readBack = (): unknown => JSON.parse(render('json'));

describe('--output never prints a raw control or bidi character (issue 23.6)', () => {
  it('json: control, C1 and bidi characters as \\u escapes; valid JSON that reads back the same value', () => {
    const out = render('json');
    assert.doesNotMatch(out.replace(/\n/g, ''), CONTROL);
    assert.ok(out.includes('\\u009b31m') && out.includes('\\u202egnp') && out.includes('\\u001b[2J'), out);
    const back = JSON.parse(out) as typeof RESULT;
    assert.equal(back[0]!.name, HOSTILE_NAME);
    assert.equal(back[0]!.tags[HOSTILE_KEY], HOSTILE_NAME);
    assert.equal(back[0]![HOSTILE_KEY as 'name'], 'v\u001b[0m');
  });

  it('jsonc on a terminal: the same escapes inside the colours', () => {
    const out = formatResult(RESULT, 'jsonc', { color: true, queryActive: false });
    const withoutOurColours = out.replace(/\u001b\[(?:94|33|36|39)m/g, '');
    assert.doesNotMatch(withoutOurColours.replace(/\n/g, ''), CONTROL);
  });

  it('yaml: such strings double-quoted with \\u escapes; a YAML parser reads back the same value', () => {
    const out = render('yaml');
    assert.doesNotMatch(out.replace(/\n/g, ''), CONTROL);
    assert.deepEqual(parseYaml(out), readBack());
    assert.equal((parseYaml(out) as typeof RESULT)[0]!.name, HOSTILE_NAME);
  });

  it('tsv: each control shown as U+FFFD, columns and rows kept', () => {
    const out = render('tsv');
    assert.doesNotMatch(out.replace(/[\t\n]/g, ''), CONTROL);
    const rows = out.split('\n').filter(Boolean);
    assert.equal(rows.length, 1, out);
    assert.equal(rows[0]!.split('\t').length, 3, 'a tab or line break in a value cannot add a column or row');
    assert.ok(rows[0]!.includes('app\ufffd'), rows[0]);
  });

  it('table (az generic table): cells and headers shown with U+FFFD', () => {
    for (const queryActive of [false, true]) {
      const out = render('table', queryActive);
      assert.doesNotMatch(out.replace(/\n/g, ''), CONTROL);
      assert.equal(out.split('\n').filter(Boolean).length, 3, out);
    }
  });
});

describe('the real binary, all formats, with a hostile key in the rules file (validate)', () => {
  const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  const file = join(dir, 'hostile.yaml');
  // An unknown key: validate quotes it back in keyPath and reason.
  writeFileSync(
    file,
    `version: 1\nscope:\n  subscriptions: ["11111111-1111-4111-8111-111111111111"]\n  "x\\e[2J\\u009B31m\\u202E": 1\nprofiles: {}\nrules: []\n`,
  );
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 90_000, input: '' });

  for (const [format, extra] of [
    ['json', []],
    ['yaml', []],
    ['tsv', ['--query', 'problems[].[keyPath, reason]']],
    ['table', ['--query', 'problems[].{path: keyPath, reason: reason}']],
  ] as const) {
    it(`-o ${format}`, () => {
      const r = cli(['validate', file, '-o', format, ...extra]);
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.stdout.length > 0);
      assert.doesNotMatch(r.stdout.replace(/[\t\n]/g, ''), CONTROL, JSON.stringify(r.stdout));
      if (format === 'json')
        assert.ok((JSON.parse(r.stdout) as { problems: Array<{ reason: string }> }).problems[0]!.reason.includes('\u202e'));
    });
  }
});
