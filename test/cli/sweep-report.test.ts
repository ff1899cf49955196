import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');

describe('identity-autopilot sweep --report <file.html> (real binary, --sandbox)', () => {
  it('writes the self-contained HTML report of the sweep it ran, and says where on stderr', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cli-report-')), 'sweep.html');
    const r = spawnSync(
      process.execPath,
      [BIN, 'sweep', '--sandbox', '--report-only', '--detailed-exitcode', '--report', file, '-o', 'json'],
      { encoding: 'utf8', timeout: 180_000 },
    );
    // 2: the sweep ran and found drift (--detailed-exitcode, as terraform plan -detailed-exitcode).
    assert.equal(r.status, 2, r.stderr);
    const { report } = JSON.parse(r.stdout);
    assert.match(r.stderr, new RegExp(`HTML report written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const html = readFileSync(file, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes(`Sweep ${report.sweepId}`));
    assert.ok(html.includes('data-chart="by-type"') && html.includes('data-chart="by-subscription"'));
    // The sandbox's store holds only this sweep: no trend yet.
    assert.ok(html.includes('first sweep: no earlier report to compare with') && !html.includes('data-chart="trend"'));
    const rows = html.slice(html.indexOf('<table id="findings">'), html.indexOf('</table>', html.indexOf('<table id="findings">')));
    assert.equal(rows.split('<tr>').length - 2, report.totals.nonCompliant, 'a row per finding under the header row');
    // Only links to the portal's page of a resource; nothing fetched.
    assert.doesNotMatch(html.replace(/href="https:\/\/portal\.azure\.com\/#@\/resource\/[^"]*"/g, ''), /<script|<link|src=|href=/i);
  });
});
