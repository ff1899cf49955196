import { randomUUID } from 'node:crypto';
import { type EmulatorState, type Json, key, type ScaleSetInstance } from '../state';
import { type ResourceTypeModel, SPACED_IDENTITY_TYPES } from './model';

/**
 * Scale sets and their instances. Upgrade policy (Learn, virtual-machine-scale-sets-upgrade-policy):
 * with `Manual` (the default when absent), "when you update the scale set model, nothing happens to
 * existing VMs" until `manualupgrade` (VirtualMachineScaleSets_UpdateInstances); `Automatic` and
 * `Rolling` bring the instances to the new model themselves (here at once; Rolling really goes in
 * batches). Each instance's `latestModelApplied` says whether it runs the latest model
 * (VirtualMachineScaleSetVMProperties in virtualMachineScaleSet.json, 2024-07-01).
 */
export const virtualMachineScaleSets: ResourceTypeModel = {
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  // 2020-06-01: see virtual-machines.ts.
  // 2025-04-01: the api-version @azure/arm-compute 23.3.0 (test/conformance/typed-sdks.test.ts) sends; a stable version of the RP.
  apiVersions: ['2020-06-01', '2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01'],
  patch: 'merge',
  identityTypes: SPACED_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'async-operation',
  operationsSegment: 'operations',
  // VirtualMachines_Delete / VirtualMachineScaleSets_Delete (ComputeRP 2024-07-01): 200, 202, 204, long-running
  // with final-state-via location (@azure/arm-compute 23.3.0's beginDelete uses resourceLocationConfig "location").
  // Compute answers a 202 with its Azure-AsyncOperation monitor (as its PUTs); `Deleting` meanwhile.
  deleteLro: { style: 'async-operation' },
  validatePut: (body) => (body.sku ? undefined : "Required parameter 'sku' is missing (null)."),
  onModelWritten(state, before, after) {
    // A new scale set's instances are built from its first model.
    const instances = scaleSetInstances(state, after, before ?? after);
    if (!before) return;
    if (JSON.stringify(before?.identity ?? null) === JSON.stringify(after.identity ?? null)) return;
    const automatic = /^(automatic|rolling)$/i.test(upgradeMode(after));
    for (const instance of instances) {
      if (automatic) {
        instance.identity = after.identity;
        instance.latestModelApplied = true;
      } else {
        instance.latestModelApplied = false;
      }
    }
  },
  // A scale-set model update: about a minute (inferred).
  realisticWriteMs: 60_000,
};

export function upgradeMode(body: Json): string {
  const mode = body.properties?.upgradePolicy?.mode;
  return typeof mode === 'string' ? mode : 'Manual';
}

/**
 * The instances of a scale set, created on first use from `sku.capacity`, running the model the
 * scale set had then (`model`, default the body itself).
 */
export function scaleSetInstances(state: EmulatorState, body: Json, model: Json | undefined = body): ScaleSetInstance[] {
  const k = key(String(body.id));
  let instances = state.scaleSetInstances.get(k);
  if (!instances) {
    const capacity = Number(body.sku?.capacity ?? 0);
    instances = Array.from({ length: Number.isFinite(capacity) ? Math.max(0, capacity) : 0 }, (_, i) => ({
      instanceId: String(i),
      vmId: randomUUID(),
      latestModelApplied: true,
      identity: model?.identity,
    }));
    state.scaleSetInstances.set(k, instances);
  }
  return instances;
}

/** A VirtualMachineScaleSetVM as VirtualMachineScaleSetVMs_List returns it. */
export function instanceBody(scaleSet: Json, instance: ScaleSetInstance): Json {
  return {
    id: `${scaleSet.id}/virtualMachines/${instance.instanceId}`,
    name: `${scaleSet.name}_${instance.instanceId}`,
    type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
    location: scaleSet.location,
    instanceId: instance.instanceId,
    sku: { name: scaleSet.sku?.name, tier: scaleSet.sku?.tier },
    ...(instance.identity ? { identity: instance.identity } : {}),
    properties: { latestModelApplied: instance.latestModelApplied, vmId: instance.vmId, provisioningState: 'Succeeded' },
  };
}
