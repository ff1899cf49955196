import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { grantAppOwner } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

// Long enough that a busy machine still sees the operations in progress between two requests.
const env = useEmulator({ lro: { durationMs: 1500, retryAfterSeconds: 0 } });
const API = '?api-version=2024-07-01';

describe('emulator: scale-set instances, upgrade policy and manualupgrade; managedBy', () => {
  before(() => grantAppOwner(env.emulator));

  const latest = async (id: string) =>
    (await rawArm(env.emulator, 'GET', `${id}/virtualMachines${API}`)).json.value.map((v: any) => v.properties.latestModelApplied);
  const settle = () => new Promise((r) => setTimeout(r, 1600));

  it('Manual: an identity PATCH leaves the instances behind until manualupgrade (long-running) brings them up', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-e',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-m',
    });
    assert.deepEqual(await latest(id), [true, true]);
    assert.equal((await rawArm(env.emulator, 'PATCH', `${id}${API}`, { body: { identity: { type: 'SystemAssigned' } } })).status, 200);
    assert.deepEqual(await latest(id), [false, false]);
    // Busy with the PATCH: a second operation is refused.
    assert.equal(
      (await rawArm(env.emulator, 'POST', `${id}/manualupgrade${API}`, { body: { instanceIds: ['0', '1'] } })).json.error.code,
      'AnotherOperationInProgress',
    );
    await settle();
    for (const [body, code] of [
      [{}, 'InvalidParameter'],
      [{ instanceIds: [] }, 'InvalidParameter'],
      [{ instanceIds: ['7'] }, 'InvalidParameter'],
    ] as const) {
      const r = await rawArm(env.emulator, 'POST', `${id}/manualupgrade${API}`, { body });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, code);
    }
    const upgrade = await rawArm(env.emulator, 'POST', `${id}/manualupgrade${API}`, { body: { instanceIds: ['0'] } });
    assert.equal(upgrade.status, 202);
    const monitor = String(upgrade.headers['azure-asyncoperation']);
    assert.deepEqual(await latest(id), [false, false], 'not before the operation is done');
    await settle();
    assert.equal((await rawArm(env.emulator, 'GET', monitor.slice(env.emulator.url.length))).json.status, 'Succeeded');
    assert.deepEqual(await latest(id), [true, false], 'only the named instance');
    const one = await rawArm(env.emulator, 'GET', `${id}/virtualMachines/0${API}`);
    assert.equal(one.json.identity.type, 'SystemAssigned');
  });

  it('Automatic: the instances follow the model at once', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-e',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-a',
      upgradePolicy: 'Automatic',
    });
    await rawArm(env.emulator, 'PATCH', `${id}${API}`, { body: { identity: { type: 'SystemAssigned' } } });
    assert.deepEqual(await latest(id), [true, true]);
  });

  it('resource groups and resources carry managedBy', async () => {
    env.emulator.state.addResourceGroup(
      SUB_A,
      'MC_rg_aks_westeurope',
      'westeurope',
      {},
      '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks',
    );
    const group = await rawArm(env.emulator, 'GET', `/subscriptions/${SUB_A}/resourceGroups/MC_rg_aks_westeurope?api-version=2024-03-01`);
    assert.match(group.json.managedBy, /managedClusters\/aks$/);
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-e',
      type: SEED_TYPES.webApp,
      name: 'web-m',
      managedBy: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/w',
    });
    assert.match((await rawArm(env.emulator, 'GET', `${id}?api-version=2024-04-01`)).json.managedBy, /workspaces\/w$/);
  });
});
