import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { triggerDefinitions } from '../../src/functions/triggers';
import { InMemoryRemediationQueue, InMemoryReportStore, runSweep } from '../../src/sweep';
import { ROLE } from '../../tools/arm-emulator';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { useEmulator } from '../support/emulator-fixture';
import { buildSweepApp, runTimerSweep, SUB_A, SUB_B, SWEEP_RULES, seedSite } from './fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';
const DRIFTED = 2300;
const COMPLIANT = 400;

function graphQueries(fromSeq: number, table: string) {
  return env.emulator
    .requestsSince(fromSeq)
    .filter((r) => /resourcegraph/i.test(r.path) && String((r.body as { query?: string })?.query).startsWith(table));
}

describe('sweep at scale: streamed Resource Graph pages', () => {
  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    env.emulator.resourceGraph.setQuota(undefined);
    for (let i = 0; i < DRIFTED; i++) seedSite(env, i % 2 ? SUB_A : SUB_B, `rg-${i % 5}`, `drifted-${i}`);
    for (let i = 0; i < COMPLIANT; i++) {
      const id = seedSite(env, SUB_A, 'rg-ok', `ok-${i}`);
      const principalId = randomUUID();
      env.emulator.state.resource(id)!.body.identity = { type: 'SystemAssigned', principalId, tenantId: env.emulator.state.tenantId };
      env.emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.reader, scope: `/subscriptions/${SUB_A}/resourceGroups/rg-ok` });
      env.emulator.state.grant({ principalId, roleDefinitionGuid: METRICS_PUBLISHER, scope: id });
    }
  });

  it('pages over more than 1,000 resources: resources calls = ceil(rows / 1000), one grants query per page with principals', async () => {
    const queue = new InMemoryRemediationQueue();
    const reports = new InMemoryReportStore();
    const app = buildSweepApp(env, rulesFor(SWEEP_RULES), { sweep: { queue, reports } });
    const seq = env.emulator.lastSeq;
    const report = await runSweep(app);
    const rows = DRIFTED + COMPLIANT;
    assert.equal(report.totals.scanned, rows);
    assert.equal(graphQueries(seq, 'resources').length, Math.ceil(rows / 1000));
    // Compliant resources sort after the drifted ones ("ok-" > "drifted-" within SUB_A), so one page carries principals;
    // the others are the app's own grants (revocation), once per sweep, and the role-assignment count of
    // each governed subscription (the budget's metric; through the reader, paced by the same quota).
    assert.equal(graphQueries(seq, 'authorizationresources').length, 2 + 2);
    assert.equal(report.resourceGraph.calls, Math.ceil(rows / 1000) + 2 + 2);
    assert.equal(report.totals.compliant, COMPLIANT);
    assert.equal(report.totals.queued, DRIFTED);
    assert.equal(queue.messages.length, DRIFTED);
    assert.equal(new Set(queue.messages.map((m) => m.resourceId)).size, DRIFTED);
    assert.equal(report.findings.length, 1000, 'the returned report keeps a bounded number of findings');
    assert.equal(report.findingsTruncated, true);
    const stored = JSON.parse(reports.reports[0]!.json);
    assert.equal(stored.findings.length, DRIFTED, 'the stored report has all of them');
    assert.deepEqual(
      env.emulator.requestsSince(seq, { writesOnly: true }).filter((r) => !/resourcegraph/i.test(r.path)),
      [],
      'a sweep itself never writes to ARM',
    );
  });

  it('the timer trigger in the trigger table runs a sweep on AUTOPILOT_SWEEP_SCHEDULE and logs the totals', async () => {
    const queue = new InMemoryRemediationQueue();
    const app = buildSweepApp(env, rulesFor(SWEEP_RULES), { sweep: { queue, reports: new InMemoryReportStore() } });
    const table = triggerDefinitions(() => app, { ...app.settings.sweep, schedule: '0 */15 * * * *' });
    const timer = table.find((t) => t.kind === 'timer')!;
    assert.deepEqual([timer.name, timer.kind === 'timer' && timer.schedule], ['complianceSweep', '0 */15 * * * *']);
    const queueTrigger = table.find((t) => t.kind === 'storageQueue')!;
    assert.deepEqual(
      [
        queueTrigger.name,
        queueTrigger.kind === 'storageQueue' && queueTrigger.queueName,
        queueTrigger.kind === 'storageQueue' && queueTrigger.connection,
      ],
      ['remediationQueue', 'remediations', 'AzureWebJobsStorage'],
    );
    assert.equal(
      triggerDefinitions(() => app).find((t) => t.kind === 'timer' && t.schedule === '0 0 * * * *')?.name,
      'complianceSweep',
      'hourly by default',
    );

    const lines = await runTimerSweep(app, true);
    assert.ok(lines.some((l) => l.event === 'sweep.past-due'));
    const finished = lines.find((l) => l.event === 'sweep.finished')!;
    assert.equal(finished.trigger, 'timer');
    assert.equal(finished.scanned, DRIFTED + COMPLIANT);
    assert.equal(finished.queued, DRIFTED);
    assert.equal(queue.messages.length, DRIFTED);
  });
});
