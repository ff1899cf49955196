import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Autopilot } from '../../src/app/composition';
import type { SweepReport } from '../../src/sweep';
import { BLOCKED_HOLD_MS } from '../../src/sweep/blocked-resources';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { useEmulator } from '../support/emulator-fixture';
import { hostJsonQueueSettings } from '../support/queue-host';
import { buildSweepApp, drainRemediationQueue, queuesOf, runTimerSweep, SUB_A, SUB_B, SWEEP_RULES } from './fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const storage = useAzurite();
const host = { ...hostJsonQueueSettings(), visibilityTimeoutSeconds: 0 };

/** A container group with a secure variable: its remediation ends `blocked` (RequiresRedeploy) until it is redeployed. */
function seedSecretContainerGroup(resourceGroup: string, name: string): string {
  return seedResource(env.emulator.state, {
    subscriptionId: SUB_A,
    resourceGroup,
    type: SEED_TYPES.containerGroup,
    name,
    properties: {
      containers: [
        {
          name: 'export',
          properties: {
            image: 'mcr.microsoft.com/azuredocs/aci-helloworld',
            resources: { requests: { cpu: 1, memoryInGB: 1.5 } },
            environmentVariables: [{ name: 'DB_PASSWORD', secureValue: 'test-only' }],
          },
        },
      ],
    },
  });
}

/** One run of the timer trigger, as the host calls it; the report as stored in blob storage, and the ids it queued. */
async function timerSweep(app: Autopilot): Promise<{ report: SweepReport; queued: string[]; markdown: string; html: string }> {
  const lines = await runTimerSweep(app);
  const finished = lines.find((l) => l.event === 'sweep.finished')!;
  const container = BlobServiceClient.fromConnectionString(storage.azurite.connectionString).getContainerClient('compliance-reports');
  const blob = async (url: string) =>
    (await container.getBlockBlobClient(new URL(url).pathname.split('/compliance-reports/')[1]!).downloadToBuffer()).toString('utf8');
  const report = JSON.parse(await blob(finished.report.json)) as SweepReport;
  const [markdown, html] = [await blob(finished.report.markdown), await blob(finished.report.html)];
  const peeked = await queuesOf(app, storage.azurite).queue.peekMessages({ numberOfMessages: 32 });
  return { report, markdown, html, queued: peeked.peekedMessageItems.map((m) => JSON.parse(m.messageText).resourceId) };
}

/** Lets the queue trigger run what the sweep queued: each blocked resource gets its `blocked` ledger row. */
async function remediate(app: Autopilot): Promise<void> {
  const run = await drainRemediationQueue(app, storage.azurite, host);
  assert.equal(run.poisoned.length, 0);
}

/** Queued once, blocked by its remediation, then held back by the next sweep: the part every test starts from. */
async function blockedAndHeld(app: Autopilot, id: string): Promise<void> {
  const first = await timerSweep(app);
  assert.ok(first.queued.includes(id), 'never remediated: queued');
  await remediate(app);
  const [last] = await app.ledger.byResourceId(id, 1);
  assert.equal(last?.status, 'blocked');
  assert.equal(last?.blockers?.[0]?.code, 'RequiresRedeploy');

  const second = await timerSweep(app);
  assert.ok(!second.queued.includes(id), 'blocked and unchanged: not queued again');
  const finding = second.report.findings.find((f) => f.resourceId === id)!;
  assert.equal(finding.action, 'blocked');
  assert.equal(finding.blocked?.code, 'RequiresRedeploy');
  assert.match(finding.blocked?.remedy ?? '', /redeploy/);
  assert.match(finding.blocked?.detail ?? '', /unchanged since \d{4}-/);
  assert.ok(second.report.totals.blocked >= 1);
}

describe('compliance sweep: a blocked resource is not queued again until it or the rules change', () => {
  let app: Autopilot;

  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    grantAppOwner(env.emulator, SUB_B);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildSweepApp(env, rulesFor(SWEEP_RULES), { azurite: storage.azurite });
  });

  it('blocked and unchanged: the timer sweep reports it blocked with the ledger code and remedy, and queues nothing', async () => {
    const id = seedSecretContainerGroup('rg-jobs-1', 'aci-billing-export');
    await blockedAndHeld(app, id);
    const third = await timerSweep(app);
    assert.ok(!third.queued.includes(id), 'still unchanged: still not queued');
    assert.equal(third.report.findings.find((f) => f.resourceId === id)?.action, 'blocked');
    // Every stored report says why and what to do, in its reason and remedy columns.
    const mdRow = third.markdown.split('\n').find((l) => l.includes('/aci-billing-export |'))!;
    assert.match(
      mdRow,
      /\| blocked \\\(unchanged since [^|]+\\\) \| RequiresRedeploy\\: the container group holds write-only [^|]+ \| set the identity when/,
    );
    const htmlRow = third.html.split('\n').find((l) => l.startsWith('<tr>') && l.includes('>aci-billing-export</a>'))!;
    assert.match(
      htmlRow,
      /<td class="reason"><b>RequiresRedeploy<\/b>: the container group holds write-only .*<td class="remedy">set the identity when/,
    );
    assert.match(third.html, /<div class="card" data-count="blocked"><b>[1-9]\d*<\/b>blocked<\/div>/);
  });

  it('a changed resource (a tag added) is queued again, and held once its new remediation is blocked too', async () => {
    const id = seedSecretContainerGroup('rg-jobs-2', 'aci-tagged');
    await blockedAndHeld(app, id);
    env.emulator.state.resource(id)!.body.tags = { owner: 'billing' };
    const changed = await timerSweep(app);
    assert.ok(changed.queued.includes(id), 'the resource changed since it was queued: queued again');
    assert.equal(changed.report.findings.find((f) => f.resourceId === id)?.action, 'queued');
    await remediate(app);
    const after = await timerSweep(app);
    assert.ok(!after.queued.includes(id), 'blocked again and unchanged since: held');
    await remediate(app);
  });

  it('changed rules queue it again', async () => {
    const id = seedSecretContainerGroup('rg-jobs-3', 'aci-rules');
    await blockedAndHeld(app, id);
    await remediate(app);
    // Same table and queue (the same storage), other rules: the audit rule's resource groups changed.
    const edited = buildSweepApp(env, rulesFor(SWEEP_RULES.replace('rg-audit*', 'rg-audit-*')), { azurite: storage.azurite });
    const changed = await timerSweep(edited);
    assert.ok(changed.queued.includes(id), 'the rules changed since it was queued: queued again');
    await remediate(edited);
  });

  it('a hold lasts at most a day: a blocker outside the row (the vault of VaultUsesAccessPolicies) is looked at again', async () => {
    const id = seedSecretContainerGroup('rg-jobs-4', 'aci-held-long');
    await blockedAndHeld(app, id);
    // The mark as a sweep a day ago left it; the blocked outcome is newer, the row and rules unchanged.
    const mark = (await app.ledger.sweepMarks.get(id))!;
    await app.ledger.sweepMarks.put({ ...mark, queuedAt: new Date(Date.now() - BLOCKED_HOLD_MS - 60_000).toISOString() });
    const later = await timerSweep(app);
    assert.ok(later.queued.includes(id), 'held for a day: queued again');
    await remediate(app);
  });
});
