import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { renderOutcome } from '../../src/cli/render';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { key } from '../../tools/arm-emulator/state';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rgReaderRules } from './rules.fixture';

const env = useEmulator({ lro: { durationMs: 150, retryAfterSeconds: 0 } });

/** `rg-upgrade*` opts in to upgrading instances; everything else keeps the safe default. */
const RULES = rgReaderRules(`
  - name: upgrade-opted-in
    match:
      resourceGroups: ["rg-upgrade*"]
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
    workload: { upgradeInstances: true }
  - name: default
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
`);

function instancesOf(id: string) {
  return env.emulator.state.scaleSetInstances.get(key(id)) ?? [];
}

function scaleSetCallsSince(seq: number, id: string) {
  return env.emulator
    .requestsSince(seq)
    .filter((r) => r.path.toLowerCase().startsWith(`${id.toLowerCase()}/`))
    .map((r) => ({ method: r.method, child: r.path.slice(id.length + 1).toLowerCase(), body: r.body, status: r.status }));
}

describe('VM scale sets: the identity reaches the instances, or the outcome says it has not', () => {
  let app: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES));
  });

  it('Manual policy without the opt-in: pending (not remediated), instances untouched, the remedy named, roles granted', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-vmss',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-manual',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'pending', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.blockers?.[0]?.code, 'UpgradeInstances');
    assert.match(d.outcome?.blockers?.[0]?.remedy, /`az vmss update-instances -g rg-vmss -n vmss-manual --instance-ids '\*'`/);
    // The model has the identity; the instances do not run it.
    const principalId = env.emulator.state.resource(id)!.body.identity.principalId;
    assert.ok(principalId);
    assert.deepEqual(
      instancesOf(id).map((i) => i.latestModelApplied),
      [false, false],
    );
    assert.ok(instancesOf(id).every((i) => !i.identity));
    assert.deepEqual(scaleSetCallsSince(seq, id), [], 'no instance listed or upgraded without the opt-in');
    // The grants are made: the identity exists on the model and will be there after the upgrade.
    assert.equal(env.emulator.state.assignmentsFor(principalId).length, 1);
    assert.notEqual(d.outcome?.status, 'remediated');
    assert.equal(d.logs.find((l) => l.record.event === 'remediation.outcome')?.record.status, 'pending');
    // The CLI says pending too: Azure took the write, the instances still need the upgrade.
    const shown = renderOutcome(d.outcome as never, 'req-1');
    assert.match(shown, /^pending: UpgradeInstances: /m);
    assert.doesNotMatch(shown, /^blocked:/m);
  });

  it('Manual policy with upgradeInstances: lists the instances, POSTs manualupgrade for all of them, waits, then remediated', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-upgrade',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-upgrade',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const model = env.emulator.state.resource(id)!.body.identity;
    assert.deepEqual(
      instancesOf(id).map((i) => i.latestModelApplied),
      [true, true],
    );
    assert.ok(
      instancesOf(id).every((i) => i.identity?.principalId === model.principalId),
      'every instance runs the model with the identity',
    );
    const calls = scaleSetCallsSince(seq, id);
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.child}`),
      ['GET virtualmachines', 'POST manualupgrade'],
    );
    assert.deepEqual(calls[1]!.body, { instanceIds: ['0', '1'] });
    assert.equal(calls[1]!.status, 202);
    // The upgrade was awaited: its operation is over before the outcome was reported.
    const upgradeOps = [...env.emulator.state.operations.values()].filter((o) => o.resourceKey === key(id));
    assert.ok(upgradeOps.length >= 2 && upgradeOps.every((o) => o.status === 'Succeeded'));
    assert.ok(
      d.outcome?.actions.some((a: { kind: string; code?: string }) => a.kind === 'follow-up-done' && a.code === 'UpgradeInstances'),
    );
  });

  it('a failed upgrade leaves the outcome pending with the error, never remediated', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-upgrade',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-upgrade-fails',
    });
    env.emulator.faults.add({
      path: 'vmss-upgrade-fails/manualupgrade',
      method: 'POST',
      action: { kind: 'error', status: 400, code: 'OperationNotAllowed', message: 'The operation is not allowed.' },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'pending', JSON.stringify(d.outcome));
    assert.match(d.outcome?.blockers?.[0]?.detail, /OperationNotAllowed|not allowed/);
    assert.deepEqual(
      instancesOf(id).map((i) => i.latestModelApplied),
      [false, false],
    );
  });

  for (const policy of ['Automatic', 'Rolling'] as const) {
    it(`${policy} policy: remediated with no instance call; the instances already run the new model`, async () => {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-upgrade',
        type: SEED_TYPES.scaleSet,
        name: `vmss-${policy.toLowerCase()}`,
        upgradePolicy: policy,
      });
      const seq = env.emulator.lastSeq;
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      assert.deepEqual(scaleSetCallsSince(seq, id), []);
      assert.deepEqual(
        instancesOf(id).map((i) => i.latestModelApplied),
        [true, true],
      );
      assert.ok(instancesOf(id).every((i) => i.identity?.type === 'SystemAssigned'));
    });
  }

  it('the redelivery after a failed upgrade finishes it: no identity write, the instances behind are upgraded', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-upgrade',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-retry',
    });
    env.emulator.faults.add({
      path: 'vmss-retry/manualupgrade',
      method: 'POST',
      times: 1,
      action: { kind: 'error', status: 400, code: 'OperationNotAllowed' },
    });
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: id }))).outcome?.status, 'pending');
    const seq = env.emulator.lastSeq;
    const again = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(again.outcome?.status, 'remediated', JSON.stringify(again.outcome));
    assert.ok(!again.outcome?.actions.some((a: { kind: string }) => a.kind === 'identity-written'));
    assert.deepEqual(
      scaleSetCallsSince(seq, id).map((c) => `${c.method} ${c.child}`),
      ['GET virtualmachines', 'POST manualupgrade'],
    );
    assert.deepEqual(
      instancesOf(id).map((i) => i.latestModelApplied),
      [true, true],
    );
  });

  it('a Manual scale set with the identity and its instances up to date: one instance list, no upgrade', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-upgrade',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-has-identity',
      identity: { type: 'SystemAssigned' },
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(
      scaleSetCallsSince(seq, id).map((c) => `${c.method} ${c.child}`),
      ['GET virtualmachines'],
    );
    assert.ok(!d.outcome?.actions.some((a: { kind: string }) => a.kind === 'follow-up-done'));
  });

  it('without the opt-in, a scale set that already has the identity (instances on the model): one instance read, no upgrade', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-vmss',
      type: SEED_TYPES.scaleSet,
      name: 'vmss-has-identity-default',
      identity: { type: 'SystemAssigned' },
    });
    const seq = env.emulator.lastSeq;
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: id }))).outcome?.status, 'remediated');
    // Whether the instances run the model is read (issue 23, item 13); nothing is upgraded.
    assert.deepEqual(
      scaleSetCallsSince(seq, id).map((c) => `${c.method} ${c.child}`),
      ['GET virtualmachines'],
    );
  });
});
