/**
 * Issue 25: `identity-autopilot secretless` and the sweep's secretless section, through the real binary
 * against the sandbox; the sandbox's recognisable key value (planted in the components' write-only
 * secrets) must appear in no output: stdout, stderr with --debug (the app's structured logs), the JSON,
 * Markdown-free table, and the sweep's HTML report.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SANDBOX_SUBSCRIPTION } from '../../src/sandbox/estate';
import { SANDBOX_PLANTED_KEY } from '../../src/sandbox/secretless-estate';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');

function cli(args: string[]) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AUTOPILOT_') || k.startsWith('AzureWebJobsStorage')) delete env[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SHARED = `/subscriptions/${SANDBOX_SUBSCRIPTION}/resourceGroups/rg-shared`;

describe('identity-autopilot secretless (real binary, sandbox)', () => {
  it('lists the components on keys, the exact change, and each target verdict; never a secret value', () => {
    const r = cli(['secretless', '--sandbox', '-o', 'json', '--debug']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    const state = s.components.find((c: { name: string }) => c.name === 'orders-state');
    assert.equal(state.method, 'key');
    assert.deepEqual(state.change.removeMetadata, ['accountKey']);
    const verdict = (name: string) => s.targets.find((t: { name: string }) => t.name === name).verdict;
    assert.equal(verdict('stdemoshared'), 'not-ready');
    assert.equal(verdict('sb-demo-shared'), 'not-ready');
    assert.equal(verdict('cosmos-demo-shared'), 'already-off');
    assert.ok(!r.out.includes(SANDBOX_PLANTED_KEY) && !r.err.includes(SANDBOX_PLANTED_KEY), 'no planted value in stdout or the debug logs');
    assert.ok(!/listSecrets/i.test(r.err), 'never asks for secret values');
  });

  it('answers --query, and prints a table by default', () => {
    const q = cli(['secretless', '--sandbox', '--query', "targets[?verdict=='not-ready'].name", '-o', 'tsv', '--sole-consumers', SHARED]);
    assert.equal(q.code, 0, q.err);
    assert.deepEqual(q.out.trim().split('\n').sort(), ['sb-demo-shared', 'stdemoshared']);
    const t = cli(['secretless', '--sandbox']);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /orders-state\s+state\.azure\.blobstorage\s+key/);
    assert.match(t.out, /legacy-pubsub .*uses 'connectionString' \(connection-string\)/);
    assert.ok(!t.out.includes(SANDBOX_PLANTED_KEY));
  });

  it('refuses a --sole-consumers value that is not an ARM id (usage error, exit 2)', () => {
    const r = cli(['secretless', '--sandbox', '--sole-consumers', 'rg-shared']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--sole-consumers takes subscription, resource group or resource ids/);
  });

  it('--migrate refuses (exit 1) while preconditions fail, saying which; an unknown component is exit 3', () => {
    const r = cli(['secretless', '--sandbox', '--migrate', 'orders-state', '--yes']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /ERROR: migration refused: orders-state: the app has no managed identity yet/);
    const missing = cli(['secretless', '--sandbox', '--migrate', 'no-such-component']);
    assert.equal(missing.code, 3, missing.err);
  });

  it("the sweep's JSON and HTML reports carry the section, and no secret value", () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretless-'));
    const html = join(dir, 'report.html');
    const r = cli(['sweep', '--sandbox', '--report-only', '-o', 'json', '--report', html, '--debug']);
    assert.equal(r.code === 0 || r.code === 2, true, r.err);
    const report = JSON.parse(r.out);
    const section = report.report.secretless;
    assert.ok(section, 'the JSON report has a secretless section');
    assert.equal(section.totals.onKeys, 2);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<h2 id="secretless">Secretless<\/h2>/);
    assert.match(page, /orders-state/);
    for (const text of [r.out, r.err, page]) assert.ok(!text.includes(SANDBOX_PLANTED_KEY));
  });
});
