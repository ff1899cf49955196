import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { useAzurite } from '../support/azurite';
import { BIN, cleanEnv, cli } from './bin';
import { onTerminal, python3Available } from './terminal';

const EXAMPLE_RULES = join(__dirname, '..', '..', 'config', 'rules.example.yaml');
const WEB = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront`;
const OPTED_OUT = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-optout`;
const MISSING = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-never-created`;

function rulesFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

/** Three structural problems (unknown key, bad GUID, bad enum), one per line. */
const SCHEMA_BROKEN =
  'version: 1\nscope:\n  subscriptions: [not-a-guid]\n  colour: blue\nprofiles: {}\nrules:\n  - name: r1\n    identity: { kind: Sometimes }\n';
/** Valid structure, four semantic problems in different profiles and rules. */
const SEMANTICS_BROKEN = [
  'version: 1',
  'scope:',
  '  subscriptions: [00000000-0000-4000-8000-000000000001]',
  'profiles:',
  '  p1:',
  '    roles:',
  '      - role: NoSuchRoleAtAll',
  '        scope: /subscriptions/00000000-0000-4000-8000-000000000001',
  'rules:',
  '  - name: r1',
  '    identity: { kind: SystemAssigned }',
  '    profiles: [p1, missing]',
  '  - name: R1',
  '    identity: { kind: SystemAssigned }',
  '  - name: r3',
  '    identity: { kind: SystemAssigned, userAssigned: { name: x } }',
  '',
].join('\n');

describe('identity-autopilot CLI: az conventions without Azure (real binary)', () => {
  it('--version prints the package version and exits 0', () => {
    const r = cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.out.trim(), JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
  });

  it('validate: every problem with key path and line, exit 1; a good file exits 0', () => {
    const schema = cli(['validate', rulesFile('schema.yaml', SCHEMA_BROKEN)]);
    assert.equal(schema.code, 1, schema.err);
    assert.match(schema.out, /schema\.yaml:3: error: scope\.subscriptions\[0\]: must be a subscription id/);
    assert.match(schema.out, /schema\.yaml:4: error: scope: unknown key 'colour'/);
    assert.match(schema.out, /schema\.yaml:8: error: rules\[0\]\.identity\.kind: must be one of SystemAssigned, UserAssigned/);
    assert.match(schema.out, /^3 problems$/m);

    const semantics = cli(['validate', rulesFile('sem.yaml', SEMANTICS_BROKEN), '-o', 'json']);
    assert.equal(semantics.code, 1);
    const body = JSON.parse(semantics.out);
    assert.equal(body.valid, false);
    // A broken profile still counts as defined: rules[0] is blamed only for 'missing', not for 'p1'.
    assert.deepEqual(
      body.problems.map((p: { keyPath: string; line: number }) => [p.keyPath, p.line]),
      [
        ['profiles.p1.roles[0].role', 7],
        ['rules[0].profiles[1]', 12],
        ['rules[1].name', 13],
        ['rules[2].identity.userAssigned', 16],
      ],
    );

    const good = cli(['validate', EXAMPLE_RULES]);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /rules\.example\.yaml: valid/);

    const syntax = cli(['validate', rulesFile('syntax.yaml', 'a: [\nb: }')]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.out, /syntax\.yaml:2: error: \(top level\): YAML syntax error/);

    const unreadable = cli(['validate', '/nonexistent/rules.yaml']);
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.err, /^ERROR: cannot read \/nonexistent\/rules\.yaml/);
  });

  it('--output json|jsonc|yaml|tsv|table|none and --query shape the same result', () => {
    const file = rulesFile('sem.yaml', SEMANTICS_BROKEN);
    const json = JSON.parse(cli(['validate', file, '-o', 'json']).out);
    // Piped, jsonc is plain json (colour only on a terminal, as knack does).
    assert.deepEqual(JSON.parse(cli(['validate', file, '-o', 'jsonc']).out), json);
    const yaml = cli(['validate', file, '-o', 'yaml']).out;
    assert.match(yaml, /^file: .*sem\.yaml$/m);
    assert.match(yaml, /^- keyPath: profiles\.p1\.roles\[0\]\.role$/m, 'sequences not indented under their key, as PyYAML');
    // tsv of the query result: one row per item, columns in the query's order.
    const tsv = cli(['validate', file, '-o', 'tsv', '--query', 'problems[].[line, keyPath]']);
    assert.equal(tsv.code, 1);
    assert.equal(
      tsv.out,
      '7\tprofiles.p1.roles[0].role\n12\trules[0].profiles[1]\n13\trules[1].name\n16\trules[2].identity.userAssigned\n',
    );
    // table with a query: az's generic table (capitalised keys, query order).
    const table = cli(['validate', file, '-o', 'table', '--query', 'problems[].{path: keyPath, line: line}']);
    assert.equal(table.out.split('\n')[0], 'Path                            Line');
    assert.match(table.out, /^rules\[1\]\.name\s+13$/m);
    const none = cli(['validate', file, '-o', 'none']);
    assert.equal(none.out, '');
    assert.equal(none.code, 1, '--output none keeps the exit code');
    // A query whose result is null prints nothing (knack prints only non-None results).
    assert.equal(cli(['validate', file, '-o', 'json', '--query', 'nothing']).out, '');
  });

  it('exit 2 for usage errors: unknown command or option, bad --output, bad --query, malformed id, conflicting verbosity', () => {
    for (const args of [
      ['frobnicate'],
      ['validate', EXAMPLE_RULES, '--no-such-option'],
      ['validate', EXAMPLE_RULES, '-o', 'xml'],
      ['validate', EXAMPLE_RULES, '--query', 'problems[?'],
      ['plan', '/subscriptions/nope'],
      ['plan', WEB, '--subscription', '00000000-0000-4000-8000-000000000000'],
      ['validate', EXAMPLE_RULES, '--only-show-errors', '--debug'],
      ['ledger', WEB, '--ledger', 'http://insecure.table.core.windows.net/t'],
    ]) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.notEqual(r.err, '', `${args.join(' ')} says why`);
    }
    assert.match(cli(['validate', EXAMPLE_RULES, '--query', 'problems[?']).err, /ERROR: argument --query: invalid jmespath/);
    assert.match(cli(['plan', '/subscriptions/nope']).err, /InvalidResourceId/);
    assert.match(
      cli(['validate', EXAMPLE_RULES, '--only-show-errors', '--verbose']).err,
      /--only-show-errors can't be used together with --debug or --verbose/,
    );
  });

  it('--verbose and --debug write to stderr only; stdout stays the result', () => {
    const plain = cli(['validate', EXAMPLE_RULES, '-o', 'json']);
    assert.equal(plain.err, '');
    const verbose = cli(['validate', EXAMPLE_RULES, '-o', 'json', '--verbose']);
    assert.equal(verbose.out, plain.out);
    assert.match(verbose.err, /^INFO: Command ran in \d+\.\d{3} seconds$/m);
    assert.doesNotMatch(verbose.err, /DEBUG:/);
    const debug = cli(['validate', EXAMPLE_RULES, '-o', 'json', '--debug']);
    assert.equal(debug.out, plain.out);
    assert.match(debug.err, /^DEBUG: Command arguments: /m);
    assert.match(debug.err, /^INFO: Command ran in/m);
  });

  it('on a terminal jsonc is coloured and json is not', {
    skip: !python3Available() && 'python3 (for a pseudo-terminal) is not installed',
  }, () => {
    const coloured = onTerminal([process.execPath, BIN, 'validate', EXAMPLE_RULES, '-o', 'jsonc']);
    assert.equal(coloured.code, 0, coloured.text);
    assert.match(coloured.text, /\x1b\[94m"valid"\x1b\[39m: \x1b\[36mtrue/);
    const plain = onTerminal([process.execPath, BIN, 'validate', EXAMPLE_RULES, '-o', 'json']);
    assert.doesNotMatch(plain.text, /\x1b\[/);
  });
});

describe('identity-autopilot CLI against the sandbox (real binary, --sandbox)', () => {
  const storage = useAzurite();

  it('plan: exit 0 (a plan is a success), JSON with the plan, nothing written, quiet stderr; --detailed-exitcode: 2', () => {
    const r = cli(['plan', WEB, '--sandbox', '--output', 'json']);
    assert.equal(r.code, 0, r.err);
    const body = JSON.parse(r.out);
    assert.equal(body.mode, 'plan');
    assert.equal(body.outcome.status, 'planned');
    assert.equal(body.outcome.plan.identity.action, 'write');
    assert.deepEqual(body.outcome.actions, []);
    assert.equal(r.err, '', 'plan records nothing, so it does not warn about the ledger; quiet when piped');
    const detailed = cli([
      'plan',
      WEB,
      '--sandbox',
      '--detailed-exitcode',
      '-o',
      'tsv',
      '--query',
      'outcome.[status, plan.identity.action]',
    ]);
    assert.equal(detailed.code, 2, detailed.err);
    assert.equal(detailed.out, 'planned\nwrite\n');
  });

  it('table output names the roles and their state', () => {
    const r = cli(['plan', WEB, '--sandbox']);
    assert.equal(r.code, 0);
    assert.match(r.out, /status: planned/);
    assert.match(r.out, /Reader\s+resource group rg-web\s+rg-reader\s+missing/);
  });

  it('apply without a ledger: exit 0, and stderr says outcomes are not recorded (--verbose names the ledger)', () => {
    const r = cli(['apply', WEB, '--sandbox', '-o', 'json', '--verbose']);
    assert.equal(r.code, 0, r.err);
    const body = JSON.parse(r.out);
    assert.equal(body.outcome.status, 'remediated');
    assert.match(body.outcome.principalId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(body.outcome.actions.map((a: { kind: string }) => a.kind).sort(), [
      'identity-written',
      'role-assigned',
      'role-assigned',
    ]);
    assert.match(
      r.err,
      /^WARNING: outcomes are not recorded: no ledger is configured \(--ledger <table url>, --ledger-connection-string <string>, or /m,
    );
    assert.match(r.err, /^INFO: ledger: none$/m);
  });

  it('--only-show-errors hides the warning; an opted-out resource is done (exit 0), with the reason', () => {
    const r = cli(['apply', OPTED_OUT, '--sandbox', '--only-show-errors']);
    assert.equal(r.code, 0);
    assert.match(r.out, /skipped: opted-out/);
    assert.equal(r.err, '');
  });

  it('a resource that does not exist: exit 3', () => {
    const r = cli(['apply', MISSING, '--sandbox']);
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.err, /^ERROR: ResourceNotFound: .*app-never-created does not exist/m);
    assert.equal(r.out, '');
  });

  it('a profile the rules do not offer is a usage error (2); an invalid rules file a failure (1)', () => {
    const owner = cli(['apply', WEB, '--sandbox', '--profile', 'Owner']);
    assert.equal(owner.code, 2);
    assert.match(owner.err, /UnknownProfile/);
    const bad = rulesFile('bad.yaml', 'version: 1\nscope:\n  subscriptions: [not-a-guid]\nprofiles: {}\nrules: []\n');
    const rules = cli(['plan', WEB, '--sandbox', '--config', bad]);
    assert.equal(rules.code, 1);
    assert.match(rules.err, /scope\.subscriptions\[0\]/);
    assert.match(rules.err, /validate <file> lists every problem/);
  });

  it('ledger without a ledger: says there is none, exit 1', () => {
    const r = cli(['ledger', WEB, '--sandbox', '-o', 'json']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^ERROR: no ledger is configured .*there is no ledger to read$/m);
  });

  it('with a ledger (Table storage), apply records the outcome and a later ledger command reads it', () => {
    const env = cleanEnv({
      AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString,
      AUTOPILOT_LEDGER_TABLE: `cli${Date.now()}`,
    });
    const applied = cli(['apply', WEB, '--sandbox', '-o', 'json'], env);
    assert.equal(applied.code, 0, applied.err);
    assert.doesNotMatch(applied.err, /not recorded/);
    const { requestId } = JSON.parse(applied.out);
    const read = cli(['ledger', WEB, '--sandbox', '-o', 'json', '--query', 'value[].[requestId, status, trigger]'], env);
    assert.equal(read.code, 0, read.err);
    assert.deepEqual(JSON.parse(read.out), [[requestId, 'remediated', 'cli']]);
  });

  it('sweep --report-only: exit 0 when drift is found; with --detailed-exitcode 2; nothing written', () => {
    const r = cli(['sweep', '--sandbox', '--report-only', '-o', 'json', '--detailed-exitcode']);
    assert.equal(r.code, 2, r.err);
    const { report, fixes } = JSON.parse(r.out);
    assert.equal(report.reportOnly, true);
    assert.equal(report.totals.scanned, 12);
    assert.equal(report.totals.nonCompliant, 9);
    assert.equal(report.totals.skipped['opted-out'], 1);
    assert.equal(report.totals.skipped['platform-managed'], 1, 'the AKS node-pool scale set');
    assert.equal(report.totals.skipped['workload-identity'], 1, 'the AKS cluster with workload identity: checked by events, HTTP and CLI');
    assert.deepEqual(fixes, []);
    assert.equal(r.err, '', 'report-only records nothing: no ledger warning, and no progress when piped');
    const plain = cli(['sweep', '--sandbox', '--report-only', '-o', 'none']);
    assert.equal(plain.code, 0, plain.err);
  });

  it('sweep without a terminal and without --yes: applies the harmless fixes, refuses those that disturb the workload, exit 1', () => {
    const r = cli(['sweep', '--sandbox', '-o', 'json']);
    assert.equal(r.code, 1, r.err);
    const { report, fixes } = JSON.parse(r.out);
    assert.equal(report.totals.notApplied, 2);
    const vmss = fixes.find((f: { resourceId: string }) => f.resourceId.endsWith('/vmss-batch'));
    assert.equal(vmss.reasons[0].code, 'ConfirmationRequired');
    assert.match(vmss.reasons[0].remedy, /--yes/);
    const held = fixes
      .filter((f: { status: string }) => f.status === 'not-applied')
      .map((f: { resourceId: string }) => f.resourceId.split('/').pop());
    // The Manual-policy scale set under the rule with upgradeInstances, the container group under allowRestart.
    assert.deepEqual(held.sort(), ['aci-nightly-report', 'vmss-batch'], JSON.stringify(fixes));
    assert.match(
      r.err,
      /aci-nightly-report: writing the identity is a PUT of the whole container group, which restarts every container in it/,
    );
    assert.match(r.err, /vmss-batch: .*upgraded to the latest model/);
    assert.match(r.err, /^ERROR: Unable to prompt for confirmation as no tty available\. Use --yes\. 2 fixes not applied/m);
    assert.equal(fixes.filter((f: { status: string }) => f.status === 'remediated').length, 5);
  });

  it('sweep --yes: fixes everything it can through the same engine, exit 0', () => {
    const r = cli(['sweep', '--sandbox', '-o', 'json', '--yes']);
    assert.equal(r.code, 0, r.err);
    const { report, fixes } = JSON.parse(r.out);
    // Counted apart: the CLI fixed them itself, none is left "queued".
    assert.deepEqual([report.totals.fixed, report.totals.queued, report.totals.blocked, report.totals.pending], [7, 0, 1, 1]);
    assert.equal(fixes.length, 9);
    // The container group with a secure variable is never PUT: the same engine reports it blocked. A
    // Manual-policy scale set under a rule without upgradeInstances has the identity on its model, not
    // on its instances yet: pending.
    const notRemediated = fixes.filter((f: { status: string }) => f.status !== 'remediated');
    assert.deepEqual(
      notRemediated.map((f: { resourceId: string; status: string }) => [f.resourceId.split('/').pop(), f.status]).sort(),
      [
        ['aci-billing-export', 'blocked'],
        ['vmss-workers', 'pending'],
      ],
      JSON.stringify(fixes),
    );
  });

  it('sweep on a terminal: a counted progress bar, then the question; "y" applies the disruptive fix', {
    skip: !python3Available() && 'python3 (for a pseudo-terminal) is not installed',
  }, () => {
    const r = onTerminal([process.execPath, BIN, 'sweep', '--sandbox'], { answer: 'y', env: cleanEnv() });
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /sweeping \[#+\] 12\/12 resources 100% · \d+:\d\d · done/);
    assert.match(r.text, /2 of the 9 fixes \(listed above\) restart containers or update scale-set instances\. Apply them\? \(y\/n\): /);
    assert.match(r.text, /fixing \[#+-*\] \d\/9 resources/);
    assert.doesNotMatch(r.text, /not applied/);
  });

  it('sweep on a terminal: answering "n" leaves the disruptive fix undone, exit 1', {
    skip: !python3Available() && 'python3 (for a pseudo-terminal) is not installed',
  }, () => {
    const r = onTerminal([process.execPath, BIN, 'sweep', '--sandbox'], { answer: 'n', env: cleanEnv() });
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /ERROR: Operation cancelled\. 2 fixes not applied/);
  });
});
