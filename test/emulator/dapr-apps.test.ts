/**
 * Issue 23 (1, 2): the emulator models Dapr app ids across a managed environment no more leniently
 * than Azure. Nothing in ContainerApps.json (Microsoft.App stable/2024-03-01, `Dapr`) or Learn
 * (container-apps/dapr-overview) makes an app id unique in an environment or clears it when Dapr is
 * turned off, so the emulator accepts both, and Resource Graph shows every app's
 * `properties.configuration.dapr` as written: the product has to find duplicates itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator();
const API = 'api-version=2024-03-01';

const RULES = `
version: 1
scope: { subscriptions: ["${SUB_A}"], resourceTypes: [Microsoft.App/containerApps] }
profiles: {}
rules:
  - name: dapr
    identity: { kind: SystemAssigned }
    dapr: { targets: { resourceGroups: ["{resourceGroup}"] } }
`;

/** A container app PUT as a client sends it (ContainerApps_CreateOrUpdate), in `environmentId`. */
async function putApp(resourceGroup: string, name: string, environmentId: string, dapr: Record<string, unknown>) {
  const id = `/subscriptions/${SUB_A}/resourceGroups/${resourceGroup}/providers/Microsoft.App/containerApps/${name}`;
  const r = await rawArm(env.emulator, 'PUT', `${id}?${API}`, {
    body: {
      location: 'westeurope',
      properties: {
        environmentId,
        configuration: { activeRevisionsMode: 'Single', dapr },
        template: { containers: [{ name, image: 'mcr.microsoft.com/k8se/quickstart:latest', resources: { cpu: 0.5, memory: '1Gi' } }] },
      },
    },
  });
  return { id, status: r.status };
}

describe('emulator: Dapr app ids across a managed environment', () => {
  it('accepts apps of several resource groups sharing an app id, Dapr off included; Resource Graph shows each as written', async () => {
    grantAppOwner(env.emulator);
    env.emulator.state.addResourceGroup(SUB_A, 'rg-team-a', 'westeurope');
    env.emulator.state.addResourceGroup(SUB_A, 'rg-team-b', 'westeurope');
    const environmentId = seedManagedEnvironment(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-platform',
      name: 'env-shared',
    });
    const on = await putApp('rg-team-a', 'ca-on', environmentId, { enabled: true, appId: 'payments', appPort: 8080 });
    const off = await putApp('rg-team-b', 'ca-off', environmentId, { enabled: false, appId: 'payments' });
    assert.ok([200, 201].includes(on.status), `PUT answered ${on.status}`);
    assert.ok([200, 201].includes(off.status), `PUT answered ${off.status}`);
    // Through the product's own adapter: the real SDK's Resource Graph query against the emulator.
    const app = buildApp(env, rulesFor(RULES));
    const { apps } = await app.ports.dapr!.lookup(
      { subscriptions: [SUB_A], targets: [], environmentId },
      { signal: AbortSignal.timeout(30_000) },
    );
    const seen = apps
      .map((a) => ({ id: a.id.toLowerCase(), appId: a.appId, daprEnabled: a.daprEnabled }))
      .sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(seen, [
      { id: on.id.toLowerCase(), appId: 'payments', daprEnabled: true },
      { id: off.id.toLowerCase(), appId: 'payments', daprEnabled: false },
    ]);
  });
});
