/**
 * Deletes as the RPs run them: container apps, AKS, container instances, VMs and scale sets answer
 * DELETE with 202 and a monitor, show `provisioningState: Deleting` until the operation ends, and only
 * then disappear with their system-assigned principal (and, for AKS, the node resource group). The
 * per-RP typed SDKs' pollers (beginDelete) and the generic one (beginDeleteById) drive them to the end.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ROLE, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const RG = 'rg-del';
const POLL = { updateIntervalInMs: 20 };
/** Long enough to look at the resource while its delete runs, short enough for a test. */
const env = useEmulator({ lro: { durationMs: 400, retryAfterSeconds: 0 } });

function sdk() {
  const emulator = env.emulator;
  const credential = emulator.credentialFor(emulator.appPrincipal);
  const options = { endpoint: emulator.url, credentialScopes: ['https://management.azure.com/.default'], tlsOptions: { ca: emulator.ca } };
  return {
    apps: new ContainerAppsAPIClient(credential, SUB_A, options),
    compute: new ComputeManagementClient(credential, SUB_A, options),
    aci: new ContainerInstanceManagementClient(credential, SUB_A, options),
    aks: new ContainerServiceClient(credential, SUB_A, options),
  };
}

type Clients = ReturnType<typeof sdk>;
type PollerLike = { pollUntilDone(): Promise<unknown> };

/** Per type: the typed SDK's beginDelete and get, and the monitor header its RP's spec names. */
const CASES: Array<{
  type: string;
  header: 'location' | 'azure-asyncoperation';
  begin: (c: Clients, name: string) => Promise<PollerLike>;
  get: (c: Clients, name: string) => Promise<{ provisioningState?: string }>;
}> = [
  {
    type: SEED_TYPES.containerApp,
    header: 'location',
    begin: (c, n) => c.apps.containerApps.beginDelete(RG, n, POLL),
    get: (c, n) => c.apps.containerApps.get(RG, n),
  },
  {
    type: SEED_TYPES.managedCluster,
    header: 'location',
    begin: (c, n) => c.aks.managedClusters.beginDelete(RG, n, POLL),
    get: (c, n) => c.aks.managedClusters.get(RG, n),
  },
  {
    type: SEED_TYPES.containerGroup,
    header: 'azure-asyncoperation',
    begin: (c, n) => c.aci.containerGroups.beginDelete(RG, n, POLL),
    get: (c, n) => c.aci.containerGroups.get(RG, n),
  },
  {
    type: SEED_TYPES.virtualMachine,
    header: 'azure-asyncoperation',
    begin: (c, n) => c.compute.virtualMachines.beginDelete(RG, n, POLL),
    get: (c, n) => c.compute.virtualMachines.get(RG, n),
  },
  {
    type: SEED_TYPES.scaleSet,
    header: 'azure-asyncoperation',
    begin: (c, n) => c.compute.virtualMachineScaleSets.beginDelete(RG, n, POLL),
    get: (c, n) => c.compute.virtualMachineScaleSets.get(RG, n),
  },
];

function seedWithIdentity(type: string, name: string): { id: string; principalId: string } {
  grantAppOwner();
  const state = env.emulator.state;
  const id = seedResource(state, { subscriptionId: SUB_A, resourceGroup: RG, type, name, identity: { type: 'SystemAssigned' } });
  return { id, principalId: state.resource(id)!.body.identity.principalId as string };
}

let ownerGranted = false;
/** The app principal is Owner of the subscription (granted once, when the emulator runs). */
function grantAppOwner(): void {
  if (ownerGranted) return;
  env.emulator.state.grant({ principalId: env.emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
  ownerGranted = true;
}

describe('long-running deletes, as the RPs run them', () => {
  for (const c of CASES) {
    it(`${c.type}: DELETE is 202 + ${c.header}, Deleting until the operation ends, then gone with its principal`, async () => {
      const clients = sdk();
      const name = `del-${randomUUID().slice(0, 8)}`;
      const { id, principalId } = seedWithIdentity(c.type, name);
      const from = env.emulator.lastSeq;

      const poller = await c.begin(clients, name);
      const del = env.emulator.requestsSince(from).find((r) => r.method === 'DELETE')!;
      assert.equal(del.status, 202);
      // While it runs, the resource is still there (a clean-up must not take it for gone) and shows Deleting.
      assert.equal((await c.get(clients, name)).provisioningState, 'Deleting');
      assert.ok(env.emulator.state.directory.get(principalId), 'the principal lives while the delete runs');

      await poller.pollUntilDone();
      assert.equal(env.emulator.state.resource(id), undefined);
      assert.equal(env.emulator.state.directory.get(principalId), undefined);
      assert.equal((await rawArm(env.emulator, 'GET', `${id}?api-version=${del.apiVersion}`)).status, 404);
      const monitorCalls = env.emulator.requestsSince(from).filter((r) => r.path.includes('/locations/'));
      assert.ok(monitorCalls.length >= 1, 'the poller followed the monitor');
    });
  }

  it('the DELETE answer carries the header the spec names, and a repeated DELETE joins the running operation', async () => {
    const { id } = seedWithIdentity(SEED_TYPES.managedCluster, 'aks-twice');
    const api = 'api-version=2024-09-01';
    const first = await rawArm(env.emulator, 'DELETE', `${id}?${api}`);
    assert.equal(first.status, 202);
    assert.match(String(first.headers.location), /\/providers\/Microsoft\.ContainerService\/locations\/westeurope\/operationresults\//);
    assert.equal(first.headers['azure-asyncoperation'], undefined);
    const again = await rawArm(env.emulator, 'DELETE', `${id}?${api}`);
    assert.equal(again.status, 202);
    assert.equal(again.headers.location, first.headers.location, 'one operation, not two');
    // A write while the delete runs is refused with the RP's own conflict.
    const body = (await rawArm(env.emulator, 'GET', `${id}?${api}`)).json;
    const put = await rawArm(env.emulator, 'PUT', `${id}?${api}`, { body });
    assert.equal(put.status, 409);
    assert.equal(put.json.error.code, 'OperationNotAllowed');
  });

  it('the generic client (resources.beginDeleteById) polls a long-running delete to the end', async () => {
    const { id, principalId } = seedWithIdentity(SEED_TYPES.containerApp, 'ca-generic');
    const { resources } = env.clients();
    await resources.resources.beginDeleteByIdAndWait(id, '2024-03-01', POLL);
    assert.equal(env.emulator.state.resource(id), undefined);
    assert.equal(env.emulator.state.directory.get(principalId), undefined);
  });

  it('web apps stay synchronous (WebApps_Delete: 200 or 204, not long-running)', async () => {
    const { id, principalId } = seedWithIdentity(SEED_TYPES.webApp, 'web-sync');
    const r = await rawArm(env.emulator, 'DELETE', `${id}?api-version=2024-04-01`);
    assert.equal(r.status, 200);
    assert.equal(env.emulator.state.directory.get(principalId), undefined);
  });
});

describe('deleting an AKS cluster takes its node resource group with it', () => {
  it('the MC_ group, the kubelet identity in it and its principal go; the kubelet role assignments stay, orphaned', async () => {
    const state = env.emulator.state;
    const { id, principalId } = seedWithIdentity(SEED_TYPES.managedCluster, 'aks-gone');
    const cluster = state.resource(id)!.body;
    const kubelet = cluster.properties.identityProfile.kubeletidentity;
    const nodeRg = `/subscriptions/${SUB_A}/resourceGroups/${cluster.properties.nodeResourceGroup}`;
    const acrPull = state.grant({
      principalId: kubelet.objectId,
      roleDefinitionGuid: ROLE.reader,
      scope: `/subscriptions/${SUB_A}/resourceGroups/${RG}`,
    });
    // A group the cluster does not manage stays.
    const otherRg = state.addResourceGroup(SUB_A, 'rg-neighbour');

    await sdk().aks.managedClusters.beginDeleteAndWait(RG, 'aks-gone', POLL);

    assert.equal(state.resource(id), undefined);
    assert.equal(state.resource(kubelet.resourceId), undefined, 'the kubelet identity is gone');
    assert.equal(state.directory.get(kubelet.objectId), undefined, 'its principal is gone');
    assert.equal(state.directory.get(principalId), undefined, "the cluster's own principal is gone");
    assert.equal((await rawArm(env.emulator, 'GET', `${nodeRg}?api-version=2022-09-01`)).status, 404);
    assert.deepEqual(
      state.assignmentsFor(kubelet.objectId).map((a) => a.id),
      [acrPull.id],
      'ARM does not delete role assignments with their principal',
    );
    assert.equal((await rawArm(env.emulator, 'GET', `${otherRg}?api-version=2022-09-01`)).status, 200);
  });
});
