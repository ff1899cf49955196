/**
 * Issue 23, item 13: the outcome and the sweep say what is true. A Manual-upgrade scale set whose model
 * has the identity while its instances are behind (`latestModelApplied` false in the instance list) does
 * not give the workload the identity yet: `pending`, not compliant, through the Event Grid trigger and in
 * the sweep, with the app holding exactly the grants infra/ derives (no opt-in to the upgrade).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { InMemoryReportStore, runSweep } from '../../src/sweep';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { key } from '../../tools/arm-emulator/state';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ lro: { durationMs: 100, retryAfterSeconds: 0 } });
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

const RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.Compute/virtualMachineScaleSets]
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
rules:
  - name: scale-sets
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
`;

describe('Manual-upgrade scale sets whose instances are behind the model: pending, not compliant', () => {
  let app: Autopilot;
  before(() => {
    const rules = rulesFor(RULES);
    const permissions = grantDerived(env, rules, SUB_A);
    // Reading the instance list is derived without the upgrade opt-in; the upgrade itself is not.
    assert.ok(permissions.actions.includes('Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read'));
    assert.ok(!permissions.actions.includes('Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action'));
    compileKql('resources | take 1');
    app = buildApp(env, rules);
  });

  /** A Manual scale set whose model someone gave a system-assigned identity and its roles, without upgrading the instances. */
  async function behindTheModel(name: string): Promise<{ id: string; principalId: string }> {
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-behind', type: SEED_TYPES.scaleSet, name });
    const api = '?api-version=2024-07-01';
    // The instances exist before the model changes (the first list creates them from the first model).
    assert.equal((await rawArm(env.emulator, 'GET', `${id}/virtualMachines${api}`)).status, 200);
    assert.equal((await rawArm(env.emulator, 'PATCH', `${id}${api}`, { body: { identity: { type: 'SystemAssigned' } } })).status, 200);
    await new Promise((r) => setTimeout(r, 150));
    const principalId = env.emulator.state.resource(id)!.body.identity.principalId as string;
    env.emulator.state.grant({ principalId, roleDefinitionGuid: READER, scope: `/subscriptions/${SUB_A}/resourceGroups/rg-behind` });
    assert.deepEqual(
      env.emulator.state.scaleSetInstances.get(key(id))!.map((i) => i.latestModelApplied),
      [false, false],
    );
    return { id, principalId };
  }

  it('an event: pending with UpgradeInstances and its remedy, nothing written, the instances untouched', async () => {
    const { id } = await behindTheModel('vmss-behind-event');
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'pending', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.blockers?.[0]?.code, 'UpgradeInstances');
    assert.match(d.outcome?.blockers?.[0]?.remedy ?? '', /az vmss update-instances -g rg-behind -n vmss-behind-event/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
    const listed = env.emulator.requestsSince(seq).filter((r) => r.path.toLowerCase().endsWith('/virtualmachines'));
    assert.equal(listed.length, 1, 'the instance list was read once');
  });

  it('the sweep: a finding (follow-up-pending), not compliant; once upgraded, compliant', async () => {
    const { id } = await behindTheModel('vmss-behind-sweep');
    const sweepOnce = () =>
      runSweep(
        { rules: app.rules, ports: app.ports, sweep: { graph: app.sweep.graph, reports: new InMemoryReportStore() } },
        { reportOnly: true },
      );
    const finding = async () => (await sweepOnce()).findings.find((f) => f.resourceId.toLowerCase() === id.toLowerCase());
    const drift = await finding();
    assert.deepEqual(drift?.problems, ['follow-up-pending'], JSON.stringify(drift));
    for (const instance of env.emulator.state.scaleSetInstances.get(key(id))!) instance.latestModelApplied = true;
    assert.equal(await finding(), undefined, 'compliant once the instances run the model');
  });
});
