/**
 * Conformance: the per-RP typed Azure SDKs (models generated from the RPs' REST specs, pinned dev
 * dependencies) read every seeded resource of each type from the emulator and update its identity
 * the way their docs show; and the product's own identity writes, as the emulator received them,
 * pass through those SDKs' model mappers.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import { WebSiteManagementClient } from '@azure/arm-appservice';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import type { TokenCredential } from '@azure/core-auth';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { checkBody, loadMappers } from '../../tools/arm-emulator/sdk-models';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { TRIGGER_RULES } from '../functions/rules.fixture';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const RG = 'rg-sdk';
const POLL = { updateIntervalInMs: 20 };
type Label = keyof typeof SEED_TYPES;

/** Per type: the SDK package, the model of the product's write body, and the documented update. */
const TYPES: Record<Label, { pkg: string; writeModel: string }> = {
  webApp: { pkg: '@azure/arm-appservice', writeModel: 'SitePatchResource' },
  deploymentSlot: { pkg: '@azure/arm-appservice', writeModel: 'SitePatchResource' },
  containerApp: { pkg: '@azure/arm-appcontainers', writeModel: 'ContainerApp' },
  containerAppJob: { pkg: '@azure/arm-appcontainers', writeModel: 'JobPatchProperties' },
  virtualMachine: { pkg: '@azure/arm-compute', writeModel: 'VirtualMachineUpdate' },
  scaleSet: { pkg: '@azure/arm-compute', writeModel: 'VirtualMachineScaleSetUpdate' },
  containerGroup: { pkg: '@azure/arm-containerinstance', writeModel: 'ContainerGroup' },
  managedCluster: { pkg: '@azure/arm-containerservice', writeModel: 'ManagedCluster' },
};

const env = useEmulator({ lro: { durationMs: 50, retryAfterSeconds: 0 } });

function clients(credential: TokenCredential) {
  const emulator = env.emulator;
  const options = { endpoint: emulator.url, credentialScopes: ['https://management.azure.com/.default'], tlsOptions: { ca: emulator.ca } };
  return {
    web: new WebSiteManagementClient(credential, SUB_A, options),
    apps: new ContainerAppsAPIClient(credential, SUB_A, options),
    compute: new ComputeManagementClient(credential, SUB_A, options),
    aci: new ContainerInstanceManagementClient(credential, SUB_A, options),
    aks: new ContainerServiceClient(credential, SUB_A, options),
  };
}

/** The site a slot's id names (`.../sites/{site}/slots/{slot}`). */
function siteOf(slotId: string): string {
  return slotId.split('/').at(-3)!;
}

/** Reads one resource (by id: a slot's holds its site) with its type's typed client; returns the SDK model. */
async function read(c: ReturnType<typeof clients>, label: Label, id: string): Promise<any> {
  const name = id.split('/').pop()!;
  switch (label) {
    case 'webApp':
      return c.web.webApps.get(RG, name);
    case 'deploymentSlot':
      return c.web.webApps.getSlot(RG, siteOf(id), name);
    case 'containerApp':
      return c.apps.containerApps.get(RG, name);
    case 'containerAppJob':
      return c.apps.jobs.get(RG, name);
    case 'virtualMachine':
      return c.compute.virtualMachines.get(RG, name);
    case 'scaleSet':
      return c.compute.virtualMachineScaleSets.get(RG, name);
    case 'containerGroup':
      return c.aci.containerGroups.get(RG, name);
    case 'managedCluster':
      return c.aks.managedClusters.get(RG, name);
  }
}

/** Turns on the system-assigned identity the way each SDK's docs show. */
async function enableSystemAssigned(c: ReturnType<typeof clients>, label: Label, id: string, current: any): Promise<void> {
  const name = id.split('/').pop()!;
  const identity = { type: 'SystemAssigned' as const };
  switch (label) {
    case 'webApp':
      await c.web.webApps.update(RG, name, { identity });
      return;
    case 'deploymentSlot':
      await c.web.webApps.updateSlot(RG, siteOf(id), name, { identity });
      return;
    case 'containerApp':
      await c.apps.containerApps.beginUpdateAndWait(RG, name, { location: current.location, identity }, POLL);
      return;
    case 'containerAppJob':
      // Jobs_Update: JSON merge patch, 202 + Location polled to the job (Jobs.json 2024-03-01).
      await c.apps.jobs.beginUpdateAndWait(RG, name, { identity }, POLL);
      return;
    case 'virtualMachine':
      await c.compute.virtualMachines.beginUpdateAndWait(RG, name, { identity }, POLL);
      return;
    case 'scaleSet':
      await c.compute.virtualMachineScaleSets.beginUpdateAndWait(RG, name, { identity }, POLL);
      return;
    case 'containerGroup':
      await c.aci.containerGroups.beginCreateOrUpdateAndWait(RG, name, { ...current, identity }, POLL);
      return;
    case 'managedCluster':
      await c.aks.managedClusters.beginCreateOrUpdateAndWait(RG, name, { ...current, identity }, POLL);
      return;
  }
}

describe('typed Azure SDKs against the emulator', () => {
  let sdk: ReturnType<typeof clients>;
  const seeded = new Map<Label, string[]>();
  before(() => {
    const emulator = env.emulator;
    grantAppOwner(emulator);
    sdk = clients(emulator.credentialFor(emulator.appPrincipal));
    const ua = seedUserAssignedIdentity(emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'id-sdk' });
    for (const [label, type] of Object.entries(SEED_TYPES) as [Label, string][]) {
      const plain = seedResource(emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type, name: `${label.toLowerCase()}-plain` });
      const withUa = seedResource(emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: RG,
        type,
        name: `${label.toLowerCase()}-ua`,
        identity: { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } },
      });
      seeded.set(label, [plain, withUa]);
    }
  });

  for (const [label, type] of Object.entries(SEED_TYPES) as [Label, string][]) {
    it(`${type}: ${TYPES[label].pkg} reads every seeded resource and enables the identity as its docs show`, async () => {
      const emulator = env.emulator;
      for (const id of seeded.get(label)!) {
        const model = await read(sdk, label, id);
        const stored = emulator.state.resource(id)!.body;
        assert.equal(model.id, id);
        assert.equal(model.location, stored.location);
        assert.equal(model.identity?.type, stored.identity?.type);
        if (stored.identity?.userAssignedIdentities) {
          const [[uaId, value]] = Object.entries(model.identity.userAssignedIdentities) as [[string, any]];
          const storedUa = Object.values(stored.identity.userAssignedIdentities)[0] as any;
          assert.equal(uaId, Object.keys(stored.identity.userAssignedIdentities)[0]);
          assert.equal(value.principalId, storedUa.principalId);
        }
      }
      const plain = seeded.get(label)![0]!;
      const seq = emulator.lastSeq;
      await enableSystemAssigned(sdk, label, plain, await read(sdk, label, plain));
      const after = await read(sdk, label, plain);
      const stored = emulator.state.resource(plain)!.body;
      assert.equal(after.identity.type, 'SystemAssigned');
      assert.ok(after.identity.principalId);
      assert.equal(after.identity.principalId, stored.identity.principalId);
      assert.ok(emulator.state.directory.get(after.identity.principalId), 'the principal exists');
      const writes = emulator.requestsSince(seq, { writesOnly: true }).filter((r) => r.path.toLowerCase() === plain.toLowerCase());
      assert.equal(writes.length, 1);
      assert.ok(writes[0]!.status < 300, JSON.stringify(writes[0]));
    });
  }

  describe("the product's identity writes pass the SDKs' model mappers", () => {
    for (const [label, type] of Object.entries(SEED_TYPES) as [Label, string][]) {
      it(`${type}: ${TYPES[label].writeModel} (${TYPES[label].pkg})`, async () => {
        const emulator = env.emulator;
        // AKS seeds are managed-identity clusters; one without an identity makes the product write it.
        const identity = label === 'managedCluster' ? { type: 'None' } : undefined;
        const id = seedResource(emulator.state, {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-apps',
          type,
          name: `${label.toLowerCase()}-product`,
          identity,
        });
        const seq = emulator.lastSeq;
        // The cluster identity, so AKS writes its identity too (the default grants the kubelet identity).
        const rules = TRIGGER_RULES.replace(
          / {4}workload: \{ allowRestart: true \}\n$/,
          '    workload: { allowRestart: true, aksPrincipal: cluster }\n',
        );
        const d = await deliver(buildApp(env, rulesFor(rules)), resourceWriteEvent({ resourceId: id }));
        // VMSS with a Manual upgrade policy end `pending` (instances not upgraded); the write happened.
        assert.ok(['remediated', 'pending'].includes(d.outcome?.status), JSON.stringify(d.outcome));
        const writes = emulator.requestsSince(seq, { writesOnly: true }).filter((r) => r.path.toLowerCase() === id.toLowerCase());
        assert.equal(writes.length, 1, 'one identity write');
        const mappers = loadMappers(TYPES[label].pkg);
        assert.ok(mappers[TYPES[label].writeModel], `${TYPES[label].pkg} has ${TYPES[label].writeModel}`);
        assert.deepEqual(checkBody(mappers, TYPES[label].writeModel, writes[0]!.body), []);
      });
    }

    it('the mapper check catches an unknown property, a wrong enum spelling and a missing required field', () => {
      const compute = loadMappers('@azure/arm-compute');
      assert.deepEqual(checkBody(compute, 'VirtualMachineUpdate', { identity: { type: 'SystemAssigned' } }), []);
      assert.match(
        checkBody(compute, 'VirtualMachineUpdate', { identity: { type: 'SystemAssigned,UserAssigned' } }).join(),
        /SystemAssigned,UserAssigned/,
      );
      assert.deepEqual(checkBody(compute, 'VirtualMachineUpdate', { identity: { type: 'SystemAssigned', kind: 'x' } }), [
        "identity.kind: not in the spec's VirtualMachineUpdate",
      ]);
      const apps = loadMappers('@azure/arm-appcontainers');
      assert.match(
        checkBody(apps, 'ContainerApp', { identity: { type: 'SystemAssigned' } }).join(),
        /location cannot be null or undefined/,
      );
    });
  });
});
