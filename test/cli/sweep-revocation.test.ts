/**
 * Issue 22, item 8: `sweep` lists the grants the rules no longer give and asks, az-style, before removing
 * them: without a terminal and without `--yes` it removes nothing and says why (exit 1); with `--yes` it
 * removes them. The real binary against the emulator (ARM endpoint, CA and managed identity from the
 * environment, as in Azure); the emulator's request log shows what was deleted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { seedSite } from '../sweep/fixture';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.cjs');
const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';

const rules = (profiles: string, lifecycle = '') => `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.Web/sites]
profiles:
  reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
  monitoring:
    roles:
      - role: Monitoring Metrics Publisher
        scope: "{resourceId}"
rules:
  - name: web
    identity: { kind: SystemAssigned }
    profiles: ${profiles}
${lifecycle}`;

const env = useEmulator({ subscriptions: [SUB_A] });

describe('CLI sweep: removals are listed and asked for', () => {
  let site: string;
  let dir: string;

  /** The binary, asynchronously (the emulator answers from this process), no terminal on stdin. */
  function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env.emulator.managedIdentityEnvironment };
    for (const k of Object.keys(childEnv)) if (k.startsWith('AUTOPILOT_') || k.startsWith('AzureWebJobsStorage')) delete childEnv[k];
    Object.assign(childEnv, { AUTOPILOT_ARM_ENDPOINT: env.emulator.url, AUTOPILOT_ARM_CA_PATH: join(dir, 'ca.pem') });
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, ...args], { env: childEnv, timeout: 120_000 }, (error, out, err) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err }),
      );
      child.stdin?.end();
    });
  }

  const deletes = (since: number) =>
    env.emulator
      .requestsSince(since, { writesOnly: true })
      .filter((r) => r.method === 'DELETE')
      .map((r) => r.path.toLowerCase());

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sweep-revocation-'));
    writeFileSync(join(dir, 'ca.pem'), env.emulator.ca);
    writeFileSync(join(dir, 'rules.yaml'), rules('[reader]', 'lifecycle:\n  revoke: enforce'));
    grantAppOwner(env.emulator, SUB_A);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    site = seedSite(env, SUB_A, 'rg-apps', 'web-cli');
    const d = await deliver(buildApp(env, rulesFor(rules('[reader, monitoring]'))), resourceWriteEvent({ resourceId: site }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
  });

  it('without a terminal and without --yes: the removal is listed, nothing is deleted, exit 1', async () => {
    const seq = env.emulator.lastSeq;
    const r = await cli(['sweep', '-c', join(dir, 'rules.yaml'), '-o', 'json']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /- Monitoring Metrics Publisher @ web-cli \(profile 'monitoring' no longer applies to it\)/);
    assert.match(r.err, /Unable to prompt for confirmation as no tty available\. Use --yes\./);
    assert.deepEqual(deletes(seq), []);
    const report = JSON.parse(r.out).report;
    assert.equal(report.revocations.items[0].status, 'held');
  });

  it('--yes: the removal is made (one DELETE of exactly that assignment); the grant the rules still give is kept', async () => {
    const principal = env.emulator.state.resource(site)!.body.identity.principalId;
    const monitoring = env.emulator.state.assignmentsFor(principal).find((a) => a.roleDefinitionGuid === METRICS_PUBLISHER)!;
    const seq = env.emulator.lastSeq;
    const r = await cli(['sweep', '-c', join(dir, 'rules.yaml'), '-o', 'json', '--yes']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(deletes(seq), [monitoring.id.toLowerCase()]);
    assert.equal(JSON.parse(r.out).report.revocations.removed, 1);
    assert.equal(env.emulator.state.assignmentsFor(principal).length, 1, 'Reader on the resource group stays');
  });
});
