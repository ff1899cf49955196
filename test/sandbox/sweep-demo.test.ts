/**
 * The sandbox's sweep demo ends with a report a user can open (issue 24 D19): a file on disk, not the
 * in-memory store's `memory://` name.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runManualRemediation } from '../../src/app/manual-remediation';
import { type Sandbox, startSandbox } from '../../src/sandbox/environment';
import { runSweepDemo } from '../../src/sandbox/sweep-demo';

describe('sandbox: the sweep demo', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.close());

  it('prints the path of the HTML report it wrote, and the file is the report', async () => {
    // The demo drifts the web app's grants, so the web app must have been fixed first (as the event part of the sandbox does).
    const web = sandbox.estate.find((r) => r.label === 'web app')!.id;
    const applied = await runManualRemediation(sandbox.app, { resourceId: web, mode: 'apply' }, 'cli');
    assert.equal(applied.kind === 'done' && applied.outcome.status, 'remediated');
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-report-'));
    let printed = '';
    const { reportPath } = await runSweepDemo(sandbox.emulator, sandbox.app, sandbox.estate, (t) => (printed += t), dir);
    assert.doesNotMatch(printed, /memory:\/\//);
    const line = /^Report: (\S+) \(open it in a browser\)$/m.exec(printed);
    assert.ok(line, printed);
    assert.equal(line[1], reportPath);
    assert.ok(reportPath.startsWith(dir) && existsSync(reportPath));
    const html = readFileSync(reportPath, 'utf8');
    assert.match(html, /^<!doctype html>/i);
  });

  it('lists what the queue trigger could not fix with its code, detail and remedy (issue 24 item 1)', async () => {
    let printed = '';
    await runSweepDemo(
      sandbox.emulator,
      sandbox.app,
      sandbox.estate,
      (t) => (printed += t),
      mkdtempSync(join(tmpdir(), 'sandbox-report-')),
    );
    const section = printed.split('Not fixed, and what to do:\n')[1] ?? '';
    assert.match(section, /^ {2}aci-billing-export \(blocked(, held)?\): RequiresRedeploy: .+\n {4}to fix: .+/m, printed);
    assert.match(section, /^ {2}vmss-workers \(pending\): UpgradeInstances: .+\n {4}to fix: .*--instance-ids '\*'/m, printed);
  });
});
