import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resourceDeleteEvent, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { compileKql } from '../../tools/arm-emulator/kql';
import { seedScopeResource } from '../../tools/arm-emulator/seed';
import { seedDaprComponent, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

/**
 * A deleted Dapr component changes what the apps it served need: the delete event plans the
 * environment's Dapr apps again (what they then no longer need is for revocation to take back), and a
 * delete event for a component ARM still lists plans nothing.
 */
const RG = 'rg-dapr-del';
const ENV = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-demo`;
const RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.App/containerApps]
profiles: {}
rules:
  - name: dapr-apps
    match: { types: [Microsoft.App/containerApps] }
    identity: { kind: SystemAssigned }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
`;
const env = useEmulator();

describe('Dapr component deletes through the Event Grid trigger', () => {
  let app: ReturnType<typeof buildApp>;
  let appId: string;
  before(async () => {
    grantAppOwner(env.emulator);
    seedManagedEnvironment(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'env-demo' });
    compileKql('resources | take 1');
    app = buildApp(env, rulesFor(RULES));
    seedScopeResource(env.emulator.state, `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-del`);
    appId = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.containerApp, name: 'ca-del' });
  });

  it('a delete event for a component ARM still lists plans nothing', async () => {
    const component = seedDaprComponent(env.emulator.state, ENV, 'secrets-live', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-del' }],
      scopes: ['ca-del'],
    });
    const d = await deliver(app, resourceDeleteEvent({ resourceId: component }));
    const line = d.logs.find((l) => l.record.event === 'dapr.component-deleted');
    assert.equal(line?.record.apps, 0, JSON.stringify(d.logs.map((l) => l.record)));
    assert.equal(d.outcome, undefined, 'no remediation');
    env.emulator.state.deleteResource(component);
  });

  it("a deleted component: the environment's Dapr apps are planned again", async () => {
    const component = seedDaprComponent(env.emulator.state, ENV, 'secrets-gone', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-del' }],
      scopes: ['ca-del'],
    });
    const first = await deliver(app, resourceWriteEvent({ resourceId: appId }));
    assert.equal(first.outcome?.status, 'remediated', JSON.stringify(first.outcome));
    env.emulator.state.deleteResource(component);
    const d = await deliver(app, resourceDeleteEvent({ resourceId: component }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.logs.find((l) => l.record.event === 'dapr.component-deleted')?.record.apps, 1);
    assert.equal(d.outcome?.resourceId?.toLowerCase(), appId.toLowerCase(), 'the app was remediated again');
    const [latest, before] = await app.ledger.byResourceId(appId);
    const names = (row: typeof latest) => (row?.plan?.dapr?.components ?? []).map((c) => c.name);
    assert.deepEqual(names(before), ['secrets-gone'], 'the first plan had the component');
    assert.deepEqual(names(latest), [], 'the new plan no longer has it');
  });
});
