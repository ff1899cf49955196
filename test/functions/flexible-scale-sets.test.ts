/**
 * Issue 23, item 12: scale sets in Flexible orchestration hold user-assigned identities only (Learn,
 * orchestration-modes table: "Managed Identity: User Assigned Identity Only") and their VMs are
 * standalone VMs, not Uniform instances. Through the real Event Grid trigger, with the app holding exactly
 * the grants infra/ derives (the instance upgrade opted in): a rule asking for a user-assigned identity
 * gets one attached; a rule asking for a system-assigned one is blocked with a remedy; the instance APIs
 * are never called.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ lro: { durationMs: 150, retryAfterSeconds: 0 } });

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
  - name: flex-user-assigned
    match: { resourceGroups: ["rg-flex-ua"] }
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    profiles: [rg-reader]
    workload: { upgradeInstances: true }
  - name: system-assigned
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
    workload: { upgradeInstances: true }
`;

const flexible = (resourceGroup: string, name: string) =>
  seedResource(env.emulator.state, {
    subscriptionId: SUB_A,
    resourceGroup,
    type: SEED_TYPES.scaleSet,
    name,
    properties: { orchestrationMode: 'Flexible' },
  });

/** Calls on the scale set's Uniform instance APIs (`/virtualMachines`, `/manualupgrade`) since `seq`. */
const instanceCallsSince = (seq: number, id: string) =>
  env.emulator.requestsSince(seq).filter((r) => r.path.toLowerCase().startsWith(`${id.toLowerCase()}/`));

describe('VM scale sets in Flexible orchestration: user-assigned only, never the instance APIs', () => {
  let app: Autopilot;
  before(() => {
    const rules = rulesFor(RULES);
    const permissions = grantDerived(env, rules, SUB_A);
    assert.ok(permissions.actions.includes('Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action'), 'upgrade opted in');
    app = buildApp(env, rules);
  });

  it('a rule asking for a system-assigned identity: blocked with a remedy, nothing written', async () => {
    const id = flexible('rg-flex-sys', 'vmss-flex-sys');
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, 'permanent: acknowledged, not redelivered');
    assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
    const blocker = d.outcome?.blockers[0];
    assert.equal(blocker?.code, 'SystemAssignedNotSupported');
    assert.match(blocker?.detail ?? '', /Flexible orchestration/);
    assert.match(blocker?.remedy ?? '', /kind: UserAssigned/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), [], 'no identity PATCH, no role assignment');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
    assert.deepEqual(instanceCallsSince(seq, id), []);
  });

  it('a rule asking for a user-assigned identity: attached (UserAssigned), roles granted, no instance call', async () => {
    const id = flexible('rg-flex-ua', 'vmss-flex-ua');
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'UserAssigned');
    const [uaId] = Object.keys(identity.userAssignedIdentities);
    assert.match(uaId ?? '', /userAssignedIdentities\/id-vmss-flex-ua$/);
    const principal = identity.userAssignedIdentities[uaId!].principalId;
    assert.equal(env.emulator.state.assignmentsFor(principal).length, 1, 'Reader on the resource group');
    assert.deepEqual(instanceCallsSince(seq, id), [], 'its VMs are governed as VMs, through their own events');
  });

  it('the emulator refuses SystemAssigned on a Flexible set and its instance APIs, as Azure does', async () => {
    const id = flexible('rg-flex-emu', 'vmss-flex-emu');
    const api = '?api-version=2024-07-01';
    const patch = await fetchArm('PATCH', `${id}${api}`, { identity: { type: 'SystemAssigned' } });
    assert.equal(patch.status, 400);
    assert.equal(patch.json.error.code, 'InvalidParameter');
    assert.match(patch.json.error.message, /Allowed values are: UserAssigned, None/);
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
    for (const [method, path, body] of [
      ['GET', `${id}/virtualMachines${api}`, undefined],
      ['POST', `${id}/manualupgrade${api}`, { instanceIds: ['0'] }],
    ] as const) {
      const r = await fetchArm(method, path, body);
      assert.equal(r.status, 400, `${method} ${path}`);
      assert.equal(r.json.error.code, 'OperationNotAllowed');
    }
  });
});

const fetchArm = (method: string, path: string, body?: unknown) => rawArm(env.emulator, method, path, body === undefined ? {} : { body });
