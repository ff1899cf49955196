import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Autopilot } from '../../src/app/composition';
import { createLogger } from '../../src/logging/logger';
import type { OutcomeContext } from '../../src/outcomes/recorder';
import { runSweep, type SweepReport } from '../../src/sweep';
import { ROLE } from '../../tools/arm-emulator';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { useEmulator } from '../support/emulator-fixture';
import { hostJsonQueueSettings } from '../support/queue-host';
import { buildSweepApp, drainRemediationQueue, queuesOf, SUB_A, SUB_B, SWEEP_RULES, seedSite } from './fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const storage = useAzurite();
const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';
const host = { ...hostJsonQueueSettings(), visibilityTimeoutSeconds: 0 };

function nonRgWritesSince(seq: number) {
  return env.emulator.requestsSince(seq, { writesOnly: true }).filter((r) => !/resourcegraph/i.test(r.path));
}

describe('compliance sweep: Resource Graph scan → queue → queue trigger', () => {
  let app: Autopilot;
  const recorded: OutcomeContext['trigger'][] = [];
  const logs: Array<Record<string, any>> = [];
  const sweep = (reportOnly = false): Promise<SweepReport> =>
    runSweep(app, { reportOnly, log: createLogger((_l, line) => logs.push(JSON.parse(line))) });
  const ids: Record<string, string> = {};

  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    grantAppOwner(env.emulator, SUB_B);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildSweepApp(env, rulesFor(SWEEP_RULES), { azurite: storage.azurite });
    const record = app.outcomes.record.bind(app.outcomes);
    (app.outcomes as { record: typeof record }).record = async (outcome, context) => {
      recorded.push(context.trigger);
      return record(outcome, context);
    };
    ids.a1 = seedSite(env, SUB_A, 'rg-apps', 'web-a1');
    ids.a2 = seedSite(env, SUB_A, 'rg-apps', 'web-a2');
    ids.b1 = seedSite(env, SUB_B, 'rg-apps', 'web-b1');
    ids.b2 = seedSite(env, SUB_B, 'rg-apps', 'web-b2');
    ids.optedOut = seedSite(env, SUB_B, 'rg-apps', 'web-optout', { 'autopilot-optout': 'true' });
    ids.ungoverned = seedSite(env, SUB_A, 'other-rg', 'web-elsewhere');
    ids.audit = seedSite(env, SUB_B, 'rg-audit-1', 'web-audit');
  });

  it('finds never-remediated resources in both subscriptions, queues enforce ones, reports report ones, and the queue trigger fixes them', async () => {
    const report = await sweep();
    assert.equal(report.totals.scanned, 6, 'other-rg is filtered out by the query');
    assert.equal(report.totals.queued, 4);
    assert.equal(report.totals.reported, 1);
    assert.equal(report.totals.compliant, 0);
    assert.deepEqual(report.totals.skipped, { 'opted-out': 1 });
    assert.deepEqual(
      new Set(report.findings.filter((f) => f.action === 'queued').map((f) => f.resourceId)),
      new Set([ids.a1, ids.a2, ids.b1, ids.b2]),
    );
    const audit = report.findings.find((f) => f.resourceId === ids.audit)!;
    assert.equal(audit.action, 'reported');
    assert.deepEqual(audit.problems, ['identity-missing', 'role-assignments-missing']);
    const finished = logs.find((l) => l.event === 'sweep.finished')!;
    assert.deepEqual(
      [finished.scanned, finished.compliant, finished.queued, finished.failed, finished.skipped],
      [6, 0, 4, 0, { 'opted-out': 1 }],
    );
    // The opted-out resource by name, with why.
    assert.deepEqual(
      report.skippedResources.map((s) => [s.resourceId.split('/').pop(), s.reason]),
      [[ids.optedOut.split('/').pop(), 'opted-out']],
    );

    const run = await drainRemediationQueue(app, storage.azurite, host);
    assert.equal(run.succeeded, 4);
    assert.equal(run.poisoned.length, 0);
    assert.deepEqual(recorded, ['queue', 'queue', 'queue', 'queue']);
    for (const id of [ids.a1, ids.a2, ids.b1, ids.b2]) {
      const identity = env.emulator.state.resource(id)!.body.identity;
      assert.equal(identity?.type, 'SystemAssigned', id);
      assert.equal(env.emulator.state.assignmentsFor(identity.principalId).length, 2);
    }
    assert.equal(env.emulator.state.resource(ids.audit)!.body.identity, undefined, 'report rules are never fixed');

    const again = await sweep();
    assert.equal(again.totals.compliant, 4);
    assert.equal(again.totals.queued, 0);
    assert.equal(again.totals.reported, 1);
  });

  it('finds drift of each kind (identity removed, role assignment deleted, new resource) and fixes it', async () => {
    const a1 = env.emulator.state.resource(ids.a1)!.body;
    delete a1.identity; // someone turned the identity off
    const b1Principal = env.emulator.state.resource(ids.b1)!.body.identity.principalId;
    const deleted = env.emulator.state.assignmentsFor(b1Principal).find((a) => a.roleDefinitionGuid === METRICS_PUBLISHER)!;
    env.emulator.state.roleAssignments.delete(deleted.id.toLowerCase());
    ids.b3 = seedSite(env, SUB_B, 'rg-apps', 'web-b3');

    const report = await sweep();
    const byId = new Map(report.findings.map((f) => [f.resourceId, f]));
    assert.deepEqual(byId.get(ids.a1)?.problems, ['identity-missing', 'role-assignments-missing']);
    assert.deepEqual(byId.get(ids.b1)?.problems, ['role-assignments-missing']);
    assert.deepEqual(
      byId.get(ids.b1)?.missingRoleAssignments.map((m) => [m.roleDefinitionGuid, m.scope]),
      [[METRICS_PUBLISHER, ids.b1]],
    );
    assert.deepEqual(byId.get(ids.b3)?.problems, ['identity-missing', 'role-assignments-missing']);
    assert.equal(report.totals.queued, 3);
    assert.equal(report.totals.compliant, 2);

    // The report is in blob storage: JSON with every finding, and a Markdown summary.
    const container = BlobServiceClient.fromConnectionString(storage.azurite.connectionString).getContainerClient('compliance-reports');
    const jsonName = new URL(report.stored!.json).pathname.split('/compliance-reports/')[1]!;
    const stored = JSON.parse((await container.getBlockBlobClient(jsonName).downloadToBuffer()).toString('utf8'));
    assert.equal(stored.sweepId, report.sweepId);
    assert.deepEqual(stored.totals, report.totals);
    assert.equal(stored.findings.length, 4);
    const md = (await container.getBlockBlobClient(jsonName.replace(/\.json$/, '.md')).downloadToBuffer()).toString('utf8');
    assert.match(md, /\| scanned \| compliant \| non-compliant \| queued \| blocked \| pending \| reported \| failed \| skipped \|/);
    assert.match(md, /\| 7 \| 2 \| 4 \| 3 \| 0 \| 0 \| 1 \| 0 \| 1 \|/);

    const run = await drainRemediationQueue(app, storage.azurite, host);
    assert.equal(run.succeeded, 3);
    assert.equal(env.emulator.state.resource(ids.a1)!.body.identity.type, 'SystemAssigned');
    assert.ok(
      env.emulator.state.assignmentsFor(b1Principal).some((a) => a.roleDefinitionGuid === METRICS_PUBLISHER),
      'the deleted grant is back',
    );
    const after = await sweep();
    assert.equal(after.totals.compliant, 5);
    assert.equal(after.totals.nonCompliant, 1, 'only the report-mode resource');
  });

  it('report mode (report rules and --report-only) makes zero ARM writes and queues nothing', async () => {
    seedSite(env, SUB_A, 'rg-apps', 'web-a3');
    const seq = env.emulator.lastSeq;
    const report = await sweep(true);
    assert.equal(report.totals.queued, 0);
    assert.equal(report.totals.reported, 2);
    assert.deepEqual(nonRgWritesSince(seq), []);
    const { queue } = queuesOf(app, storage.azurite);
    assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
    assert.equal(env.emulator.state.resource(ids.audit)!.body.identity, undefined);
    assert.ok(env.emulator.state.assignmentsFor(env.emulator.appPrincipal.id).every((a) => a.roleDefinitionGuid === ROLE.owner));
  });
});
