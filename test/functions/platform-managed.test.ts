import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { runSweep } from '../../src/sweep';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator();

/** What AKS does: its node resource group names the cluster in `managedBy`, and so do its node-pool scale sets. */
const CLUSTER = `/subscriptions/${SUB_A}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks1`;
const NODE_GROUP = 'MC_rg-aks_aks1_westeurope';

/** POST /api/remediations through the real HTTP trigger, as an authorised Entra caller. */
async function postRemediation(app: Autopilot, resourceId: string): Promise<{ status: number; body: any }> {
  const { status, body } = await call(app, 'remediationsPost', {
    method: 'POST',
    url: 'http://localhost/api/remediations',
    headers: { 'content-type': 'application/json' },
    body: { string: JSON.stringify({ resourceId, mode: 'apply' }) },
  });
  return { status, body };
}

describe('platform-managed resources are left alone (managedBy on the resource or its group)', () => {
  let app: Autopilot;
  const ids: Record<string, string> = {};
  before(() => {
    grantAppOwner(env.emulator);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildApp(env, rulesFor(TRIGGER_RULES), {}, { ...EASY_AUTH_ON });
    env.emulator.state.addResourceGroup(SUB_A, NODE_GROUP, 'westeurope', {}, CLUSTER);
    ids.nodePool = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: NODE_GROUP,
      type: SEED_TYPES.scaleSet,
      name: 'aks-nodepool1-vmss',
      upgradePolicy: 'Automatic',
    });
    ids.nodePool2 = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: NODE_GROUP,
      type: SEED_TYPES.scaleSet,
      name: 'aks-nodepool2-vmss',
      upgradePolicy: 'Automatic',
    });
    ids.managedApp = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-managed',
      managedBy: `/subscriptions/${SUB_A}/resourceGroups/rg-apps/providers/Microsoft.Databricks/workspaces/dbw1`,
    });
    ids.ordinary = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-ordinary',
    });
  });

  it('event path: a scale set in a managed resource group is skipped as platform-managed, with no write', async () => {
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: ids.nodePool! }));
    assert.equal(d.error, undefined);
    assert.equal(d.outcome?.status, 'skipped', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.skipped?.[0]?.reason, 'platform-managed');
    assert.match(d.outcome?.skipped?.[0]?.detail, /managed by .*managedClusters\/aks1/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
    assert.equal(env.emulator.state.resource(ids.nodePool!)!.body.identity, undefined);
    // The group's managedBy is read once, then cached: a second event in that group costs one GET.
    const seq2 = env.emulator.lastSeq;
    assert.equal(
      (await deliver(app, resourceWriteEvent({ resourceId: ids.nodePool2! }))).outcome?.skipped?.[0]?.reason,
      'platform-managed',
    );
    const reads = env.emulator.requestsSince(seq2).map((r) => `${r.method} ${r.path}`.toLowerCase());
    assert.deepEqual(reads, [`GET ${ids.nodePool2}`.toLowerCase()]);
  });

  it('a burst of events in one new resource group reads the group once', async () => {
    const burst = Array.from({ length: 5 }, (_, i) =>
      seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-burst-group',
        type: SEED_TYPES.webApp,
        name: `web-burst-${i}`,
      }),
    );
    const seq = env.emulator.lastSeq;
    const outcomes = await Promise.all(burst.map((id) => deliver(app, resourceWriteEvent({ resourceId: id }))));
    assert.ok(
      outcomes.every((d) => d.outcome?.status === 'remediated'),
      JSON.stringify(outcomes.map((d) => d.outcome?.status)),
    );
    const groupReads = env.emulator
      .requestsSince(seq)
      .filter((r) => r.method === 'GET' && /\/resourceGroups\/rg-burst-group$/i.test(r.path));
    assert.equal(groupReads.length, 1);
  });

  it('event path: a resource with its own managedBy is skipped as platform-managed, with no write', async () => {
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: ids.managedApp! }));
    assert.equal(d.outcome?.status, 'skipped', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.skipped?.[0]?.reason, 'platform-managed');
    assert.match(d.outcome?.skipped?.[0]?.detail, /Databricks\/workspaces\/dbw1/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
  });

  it('HTTP path: both are skipped as platform-managed; an ordinary neighbour is remediated', async () => {
    for (const id of [ids.nodePool!, ids.managedApp!]) {
      const answer = await postRemediation(app, id);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.outcome.status, 'skipped');
      assert.equal(answer.body.outcome.skipped[0].reason, 'platform-managed');
    }
    assert.equal((await postRemediation(app, ids.ordinary!)).body.outcome.status, 'remediated');
    assert.equal(env.emulator.state.resource(ids.nodePool!)!.body.identity, undefined);
    assert.equal(env.emulator.state.resource(ids.managedApp!)!.body.identity, undefined);
  });

  it('sweep: the Resource Graph query joins resourcecontainers; both are counted as platform-managed, never findings', async () => {
    const unfixed = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-unfixed',
    });
    const report = await runSweep(app, { reportOnly: true });
    const found = report.findings.map((f) => f.resourceId);
    assert.ok(found.includes(unfixed), 'an ordinary drifted resource is a finding');
    for (const id of [ids.nodePool!, ids.nodePool2!, ids.managedApp!]) assert.ok(!found.includes(id), `${id} is not a finding`);
    assert.equal(report.totals.skipped['platform-managed'], 3);
  });
});
