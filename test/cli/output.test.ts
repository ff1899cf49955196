import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { applyQuery, compileQuery, formatResult, QueryError, TableUnavailableError } from '../../src/cli/output';
import { renderProgressLine } from '../../src/cli/progress';

/**
 * The oracle is knack itself (the framework of `az`): Debian's azure-cli package installs it with
 * PyYAML and tabulate for the system Python. Each case is rendered by knack's own formatters and by ours.
 */
const ORACLE = `
import json, sys
from collections import OrderedDict
from knack.output import format_json, format_table, format_tsv, format_yaml
from knack.util import CommandResultItem
import yaml
out = []
for case in json.loads(sys.stdin.read()):
    # knack's --query turns every object into an OrderedDict (knack/query.py, Options(OrderedDict)).
    data = json.loads(json.dumps(case['data']), object_pairs_hook=OrderedDict if case['query'] else None)
    item = CommandResultItem(data, is_query_active=case['query'])
    row = {'json': format_json(item), 'tsv': format_tsv(item), 'ours_yaml_reads_as': yaml.safe_load(case['ours_yaml'])}
    try:
        row['table'] = format_table(item)
    except Exception as e:
        row['table'] = None
    out.append(row)
print(json.dumps(out))
`;

function knackPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import knack.output, yaml, tabulate'], { encoding: 'utf8' }).status === 0) return python;
  }
  return undefined;
}
const PYTHON = knackPython();

const CASES: Array<{ data: unknown; query: boolean }> = [
  {
    data: [
      {
        name: 'app-storefront',
        count: 1,
        ratio: 1.5,
        ok: true,
        nested: { x: 1 },
        id: '/subscriptions/x',
        type: 't',
        list: [1, 2],
        none: null,
      },
      { name: 'b', count: 22, ok: false, ratio: null, 'émoji ✓': 'ünïcode' },
    ],
    query: false,
  },
  { data: [{ zeta: 'z', alpha: 'a', mid: true, gone: null, arr: [], obj: {} }], query: true },
  { data: { status: 'planned', principalId: null, actions: [], plan: { identity: { action: 'write' } } }, query: false },
  // A list row: Column1..n. (Containers inside it are left out: knack shows Python reprs there.)
  { data: [[1, true, null, 's', 2.25]], query: true },
  { data: ['planned', 'write', true, false, 3], query: true },
  { data: true, query: true },
  { data: 'a string', query: true },
  { data: 42, query: true },
  { data: [], query: false },
  { data: [{ keyPath: 'rules[0].name', line: 7, reason: "duplicate rule name 'R1' (also used by rules[0])" }], query: false },
];

describe('--output formats, with knack as the oracle', {
  skip: !PYTHON && 'knack (Debian package azure-cli) is not installed for python3',
}, () => {
  const ours = CASES.map((c) => ({
    json: formatResult(c.data, 'json', { color: false, queryActive: c.query }),
    tsv: formatResult(c.data, 'tsv', { color: false, queryActive: c.query }),
    yaml: formatResult(c.data, 'yaml', { color: false, queryActive: c.query }),
    table: (() => {
      try {
        return formatResult(c.data, 'table', { color: false, queryActive: c.query });
      } catch (e) {
        if (e instanceof TableUnavailableError) return null;
        throw e;
      }
    })(),
  }));
  const knack = (() => {
    if (!PYTHON) return [];
    const input = JSON.stringify(CASES.map((c, i) => ({ ...c, ours_yaml: ours[i]!.yaml })));
    const r = spawnSync(PYTHON, ['-c', ORACLE], { input, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Array<{ json: string; tsv: string; table: string | null; ours_yaml_reads_as: unknown }>;
  })();

  it('json: keys sorted at every level, two-space indent, non-ASCII as is: byte for byte', () => {
    CASES.forEach((c, i) => assert.equal(ours[i]!.json, knack[i]!.json, JSON.stringify(c.data)));
  });

  it('tsv: rows, sorted or query-ordered columns, list lengths, empty objects, Python True/None: byte for byte', () => {
    CASES.forEach((c, i) => assert.equal(ours[i]!.tsv, knack[i]!.tsv, JSON.stringify(c.data)));
  });

  it("table: az's generic table (skipped keys, capitalised headers, tabulate layout): byte for byte", () => {
    CASES.forEach((c, i) => assert.equal(ours[i]!.table, knack[i]!.table, JSON.stringify(c.data)));
  });

  it('yaml: PyYAML reads our YAML back as the same data', () => {
    CASES.forEach((c, i) => assert.deepEqual(knack[i]!.ours_yaml_reads_as, c.data, ours[i]!.yaml));
  });
});

describe('--output and --query semantics', () => {
  it('nothing is printed for a null result in any format; none prints nothing ever', () => {
    for (const f of ['json', 'jsonc', 'yaml', 'table', 'tsv', 'none'] as const) {
      assert.equal(formatResult(null, f, { color: true, queryActive: true }), '');
      assert.equal(formatResult(undefined, f, { color: true, queryActive: true }), '');
    }
    assert.equal(formatResult({ a: 1 }, 'none', { color: true, queryActive: false }), '');
  });

  it('jsonc is coloured only when asked (a terminal), otherwise it is json', () => {
    const value = { b: 'x', a: [1, true, null] };
    assert.equal(
      formatResult(value, 'jsonc', { color: false, queryActive: false }),
      formatResult(value, 'json', { color: false, queryActive: false }),
    );
    const coloured = formatResult(value, 'jsonc', { color: true, queryActive: false });
    assert.match(coloured, /\x1b\[94m"a"\x1b\[39m:/);
    assert.match(coloured, /\x1b\[33m"x"\x1b\[39m/);
    // eslint-disable-next-line no-control-regex
    assert.deepEqual(JSON.parse(coloured.replace(/\x1b\[\d+m/g, '')), value);
  });

  it('--query: JMESPath on the JSON result; a syntax error is caught before anything runs', () => {
    const result = {
      outcome: {
        status: 'planned',
        plan: { roleAssignments: [{ roleDisplayName: 'Reader' }, { roleDisplayName: 'Key Vault Secrets User' }] },
      },
    };
    assert.deepEqual(applyQuery(result, compileQuery('outcome.plan.roleAssignments[].roleDisplayName')), [
      'Reader',
      'Key Vault Secrets User',
    ]);
    assert.deepEqual(applyQuery(result, compileQuery('outcome.{s: status}')), { s: 'planned' });
    assert.throws(() => compileQuery('outcome.['), QueryError);
    assert.throws(() => applyQuery(result, compileQuery('length(outcome.status.missing.x) > `1`')), QueryError);
  });

  it('a result with nothing a table can show is an error, as az says it', () => {
    assert.throws(
      () => formatResult([{ nested: { a: 1 } }], 'table', { color: false, queryActive: false }),
      /Table output unavailable\. Use the --query option/,
    );
  });
});

describe('progress line', () => {
  it('without a total: spinner, count and elapsed time', () => {
    assert.equal(renderProgressLine({ label: 'sweeping', unit: 'resources', done: 0, elapsedMs: 1500, frame: 0 }), '⠋ sweeping (0:02)');
    assert.equal(
      renderProgressLine({ label: 'sweeping', unit: 'resources', done: 2000, elapsedMs: 61_000, frame: 1 }),
      '⠙ sweeping 2,000 resources (1:01)',
    );
  });

  it('with a total: a counted bar, percentage and an ETA from the rate so far', () => {
    const line = renderProgressLine({ label: 'sweeping', unit: 'resources', done: 250_000, total: 1_000_000, elapsedMs: 60_000 }, 100);
    assert.match(line, /^sweeping \[#+-+\] 250,000\/1,000,000 resources 25% · 1:00 · ETA 3:00$/);
    const bar = /\[(#+)(-+)\]/.exec(line)!;
    assert.equal(bar[1]!.length, Math.round((bar[1]!.length + bar[2]!.length) / 4), 'a quarter filled');
    assert.match(renderProgressLine({ label: 'x', unit: 'pages', done: 0, total: 10, elapsedMs: 0 }), /0\/10 pages 0% · 0:00 · ETA --:--$/);
    assert.match(
      renderProgressLine({ label: 'x', unit: 'pages', done: 12, total: 10, elapsedMs: 3_723_000 }),
      /12\/12 pages 100% · 1:02:03 · done$/,
      'an estimate that was too low',
    );
    assert.ok(renderProgressLine({ label: 'x', unit: 'pages', done: 1, total: 3, elapsedMs: 0 }, 40).length < 40, 'fits the terminal');
  });
});
