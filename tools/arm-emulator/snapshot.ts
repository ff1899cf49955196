import type { Principal } from './directory';
import { type EmulatorState, type Json, key, type RoleAssignmentRecord, type ScaleSetInstance, type StoredResource } from './state';

/**
 * What a run of the emulator changed that the next run should find again (the sandbox's
 * `--sandbox-state <dir>`): resource groups, resources, role assignments, the directory's principals,
 * scale-set instances and federated credentials. Not kept: operations in flight, faults, events,
 * tokens, subscriptions and role definitions (those are the seed's, made again by each run).
 */
export interface EmulatorSnapshot {
  format: 'arm-emulator-state/1';
  resourceGroups: StoredResource[];
  resources: StoredResource[];
  roleAssignments: RoleAssignmentRecord[];
  principals: Principal[];
  scaleSetInstances: Array<[string, ScaleSetInstance[]]>;
  federatedCredentials: Array<[string, Array<[string, Json]>]>;
}

export function snapshotState(state: EmulatorState): EmulatorSnapshot {
  return {
    format: 'arm-emulator-state/1',
    resourceGroups: [...state.resourceGroups.values()],
    resources: [...state.resources.values()],
    roleAssignments: [...state.roleAssignments.values()],
    principals: state.directory.all(),
    scaleSetInstances: [...state.scaleSetInstances],
    federatedCredentials: [...state.federatedCredentials].map(([k, byName]) => [k, [...byName]]),
  };
}

/**
 * Replaces the state's resources, assignments, scale-set instances and federated credentials with the
 * snapshot's, and adds its principals (the running emulator's own principal stays). Keys are the
 * state's own (lower-case ids), as they were saved.
 */
export function restoreState(state: EmulatorState, snapshot: EmulatorSnapshot): void {
  if (snapshot.format !== 'arm-emulator-state/1') throw new Error(`not an emulator snapshot (format ${String(snapshot.format)})`);
  state.resourceGroups.clear();
  for (const rg of snapshot.resourceGroups) state.resourceGroups.set(key(rg.id), rg);
  state.resources.clear();
  for (const r of snapshot.resources) state.resources.set(key(r.id), r);
  state.roleAssignments.clear();
  for (const a of snapshot.roleAssignments) state.roleAssignments.set(key(a.id), a);
  for (const p of snapshot.principals) state.directory.restore(p);
  state.scaleSetInstances.clear();
  for (const [k, v] of snapshot.scaleSetInstances) state.scaleSetInstances.set(k, v);
  state.federatedCredentials.clear();
  for (const [k, byName] of snapshot.federatedCredentials) state.federatedCredentials.set(k, new Map(byName));
}
