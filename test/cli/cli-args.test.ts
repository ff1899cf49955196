import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { NOT_LOGGED_IN } from '../../src/cli/sign-in';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { cli } from './bin';

const EXAMPLE_RULES = join(__dirname, '..', '..', 'config', 'rules.example.yaml');
const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;

describe('CLI arguments: az parser conventions (issue 24, section 3)', () => {
  it('D14: an unknown option is "ERROR: unrecognized arguments" with a did-you-mean and a short usage, not the whole help', () => {
    const r = cli(['plan', WEB, '--profle', 'x']);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.equal(
      r.err,
      [
        'ERROR: unrecognized arguments: --profle',
        "Did you mean '--profile' ?",
        '',
        'usage: identity-autopilot plan [options] <resourceId>',
        "See 'identity-autopilot plan --help'.",
        '',
      ].join('\n'),
    );
    // A global option is suggested too; a word far from every option gets no guess.
    assert.match(cli(['validate', EXAMPLE_RULES, '--only-show-error']).err, /^Did you mean '--only-show-errors' \?$/m);
    assert.doesNotMatch(cli(['validate', EXAMPLE_RULES, '--zzz']).err, /Did you mean/);
  });

  it("D14: a misspelled command is az's 'misspelled or not recognized' with the closest command", () => {
    const r = cli(['pln', WEB]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ERROR: 'pln' is misspelled or not recognized by the system\.\nDid you mean 'plan' \?\n/);
    assert.ok(r.err.split('\n').length < 8, r.err);
  });

  it('D14: command help shows the global arguments and examples, as az does', () => {
    const r = cli(['plan', '--help']);
    assert.equal(r.code, 0);
    const [, global = ''] = r.out.split('Global Arguments:');
    for (const flag of ['--output', '--query', '--debug', '--verbose', '--only-show-errors', '--subscription', '--detailed-exitcode'])
      assert.match(global, new RegExp(`${flag}\\b`), `${flag} under Global Arguments`);
    assert.match(r.out, /^Examples:\n {4}\S.*\n {8}identity-autopilot plan \/subscriptions\//m);
    assert.match(cli(['ledger', '--help']).out, /Examples:\n[\s\S]*identity-autopilot ledger .* --top 5/);
  });

  it("D12: --top takes a positive integer; 'abc', '-5' and '0' are usage errors in argparse's words", () => {
    for (const [value, message] of [
      ['abc', "argument --top: invalid int value: 'abc'"],
      ['1.5', "argument --top: invalid int value: '1.5'"],
      ['-5', "argument --top: must be a positive integer, got '-5'"],
      ['0', "argument --top: must be a positive integer, got '0'"],
    ]) {
      const r = cli(['ledger', WEB, '--top', value]);
      assert.equal(r.code, 2, `--top ${value}: ${r.err}`);
      assert.equal(r.err, `ERROR: ${message}\n`);
    }
  });

  it('D13: with --detailed-exitcode every error exits 1 (terraform), so 2 only ever means changes; without it az keeps 2 and 3', () => {
    for (const args of [
      ['plan', WEB, '--no-such-option'],
      ['plan', '/subscriptions/nope'],
      ['ledger', WEB, '--top', '0'],
      ['frobnicate'],
    ]) {
      assert.equal(cli(args).code, 2, args.join(' '));
      const detailed = cli([...args, '--detailed-exitcode']);
      assert.equal(detailed.code, 1, `${args.join(' ')} --detailed-exitcode: ${detailed.err}`);
      assert.match(detailed.err, /^ERROR: /);
    }
    // After `--` the flag is an argument, not the option.
    assert.equal(cli(['plan', '--', '/subscriptions/nope', '--detailed-exitcode']).code, 2);
  });

  it('D11: --profile takes one value per flag (repeatable, or a comma list) and never swallows the resource id', () => {
    const r = cli([
      'plan',
      '--profile',
      'vault-secrets',
      WEB,
      '--profile',
      'blob-data',
      '--sandbox',
      '-o',
      'json',
      '--query',
      'outcome.plan',
    ]);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out);
    assert.equal(plan.resourceId, WEB);
    assert.deepEqual(plan.profiles, ['rg-reader', 'vault-secrets', 'blob-data']);
    const empty = cli(['plan', WEB, '--profile', 'vault-secrets,,blob-data']);
    assert.equal(empty.code, 2);
    assert.equal(empty.err, "ERROR: argument --profile: empty name in 'vault-secrets,,blob-data'\n");
  });
});

describe('CLI sign-in (D10)', () => {
  it("not logged in: one ERROR line naming 'az login' on stderr, nothing on stdout, exit 1", () => {
    // A machine with no sign-in at all: empty HOME (no az or azd profile), no AZURE_* variables, no az,
    // pwsh or azd on PATH, and no managed identity (IMDS is unreachable here). No network is needed.
    const env: NodeJS.ProcessEnv = { PATH: dirname(process.execPath), HOME: mkdtempSync(join(tmpdir(), 'home-')) };
    const id = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Web/sites/x';
    const r = cli(['plan', id, '--config', EXAMPLE_RULES], env);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.out, '');
    assert.equal(r.err, `ERROR: ${NOT_LOGGED_IN}\n`);
    assert.match(NOT_LOGGED_IN, /^not logged in to Azure: run 'az login' \(or set /);
  });
});
