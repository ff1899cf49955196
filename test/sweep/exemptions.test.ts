import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Autopilot } from '../../src/app/composition';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { useEmulator } from '../support/emulator-fixture';
import { hostJsonQueueSettings } from '../support/queue-host';
import { buildSweepApp, drainRemediationQueue, queuesOf, runTimerSweep, SUB_A, SUB_B, SWEEP_RULES, seedSite } from './fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const storage = useAzurite();
const host = { ...hostJsonQueueSettings(), visibilityTimeoutSeconds: 0 };

/** The sweep rules plus a waiver for one resource group, and the opt-out tag turned off. */
const RULES = `${SWEEP_RULES.replace('  optOutTag: autopilot-optout', '  optOutTag: autopilot-optout\n  allowOptOut: false')}
exemptions:
  - resourceGroup: rg-legacy
    category: waiver
    reason: "billing app keeps its connection string until the Q3 migration (CHG-1234)"
    expiresOn: 2026-09-30T00:00:00Z
    rules: [workloads]
`;

/** One timer run: its \`sweep.finished\` log line, and the ids on the remediation queue. */
async function timerSweep(app: Autopilot) {
  const lines = await runTimerSweep(app);
  const finished = lines.find((l) => l.event === 'sweep.finished')!;
  const peeked = await queuesOf(app, storage.azurite).queue.peekMessages({ numberOfMessages: 32 });
  return { finished, queued: peeked.peekedMessageItems.map((m) => JSON.parse(m.messageText).resourceId as string) };
}

describe('exemptions through the timer trigger: skipped with their reason until expiresOn, remediated by the next sweep after', () => {
  let now = new Date('2026-09-29T23:59:00Z');
  let app: Autopilot;

  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildSweepApp(env, rulesFor(RULES), { azurite: storage.azurite, clock: () => now });
  });

  it('before expiry the exempted site is skipped (exempted) and not queued; the opt-out tag is ignored', async () => {
    const legacy = seedSite(env, SUB_A, 'rg-legacy', 'app-billing');
    const tagged = seedSite(env, SUB_A, 'rg-web', 'app-tagged', { 'autopilot-optout': 'true' });

    const first = await timerSweep(app);
    assert.deepEqual(first.finished.skipped, { exempted: 1 });
    assert.ok(!first.queued.includes(legacy), 'exempted: not queued');
    // Listed by name, with the entry's category and reason, in the stored report (not only counted).
    const container = BlobServiceClient.fromConnectionString(storage.azurite.connectionString).getContainerClient('compliance-reports');
    const mdName = new URL(first.finished.report.markdown).pathname.split('/compliance-reports/')[1]!;
    const md = (await container.getBlockBlobClient(mdName).downloadToBuffer()).toString('utf8');
    const exempted = md.split('\n').find((l) => l.includes('/app-billing |'));
    assert.ok(exempted?.includes('| exempted |') && exempted.includes('waiver') && exempted.includes('CHG-1234'), md);
    assert.ok(first.queued.includes(tagged), 'allowOptOut: false: the tag does not opt out');
    const run = await drainRemediationQueue(app, storage.azurite, host);
    assert.equal(run.poisoned.length, 0);
    assert.equal(env.emulator.state.resource(legacy)!.body.identity, undefined, 'exempted: untouched');
    assert.equal(env.emulator.state.resource(tagged)!.body.identity?.type, 'SystemAssigned');

    // The queue trigger judges at the same clock: a message queued before the entry was added is skipped
    // with the entry's reason, category and expiry, recorded in the ledger.
    await app.sweep.queue!.send({
      version: 1,
      resourceId: legacy,
      correlationId: 'c-old',
      sweepId: 'sw-old',
      rule: 'workloads',
      problems: ['identity-missing'],
    });
    assert.equal((await drainRemediationQueue(app, storage.azurite, host)).poisoned.length, 0);
    const [row] = await app.ledger.byResourceId(legacy, 1);
    assert.equal(row?.status, 'skipped');
    assert.deepEqual(row?.skipped, [
      {
        reason: 'exempted',
        detail:
          'exemptions[0] (waiver, expires 2026-09-30T00:00:00Z): billing app keeps its connection string until the Q3 migration (CHG-1234)',
      },
    ]);
    assert.equal(env.emulator.state.resource(legacy)!.body.identity, undefined);
  });

  it('after expiry the next sweep queues it and the queue trigger remediates it', async () => {
    const legacy = `/subscriptions/${SUB_A}/resourceGroups/rg-legacy/providers/Microsoft.Web/sites/app-billing`;
    now = new Date('2026-09-30T00:00:00Z');
    const next = await timerSweep(app);
    assert.deepEqual(next.finished.skipped, {}, 'nothing exempted any more');
    assert.ok(next.queued.includes(legacy), 'expired: queued');
    const run = await drainRemediationQueue(app, storage.azurite, host);
    assert.equal(run.poisoned.length, 0);
    const identity = env.emulator.state.resource(legacy)!.body.identity;
    assert.equal(identity?.type, 'SystemAssigned');
    assert.equal(env.emulator.state.assignmentsFor(identity.principalId).length, 2);
    const [row] = await app.ledger.byResourceId(legacy, 1);
    assert.equal(row?.status, 'remediated');
  });
});
