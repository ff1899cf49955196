import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ATTR, METRIC } from '../../src/telemetry';
import { ROLE, resourceDeleteEvent } from '../../tools/arm-emulator';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { deletesSince, remediatedWebApp, webReaderRules } from '../support/lifecycle';
import { inMemoryTelemetry, total } from '../support/telemetry';

/**
 * Clean-up on delete through the real Event Grid trigger: what was removed and what was kept, asserted on
 * the emulator's state and request log.
 */
const env = useEmulator();
let app: ReturnType<typeof buildApp>;
const deletes = (from: number) => deletesSince(env, from);
const remediatedApp = (rg: string, name: string) => remediatedWebApp(env, app, rg, name);

describe('ResourceDeleteSuccess: clean-up of what the product made, proven by ARM', () => {
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(webReaderRules()));
  });

  it("removes the deleted app's own assignment, keeps a person's one with the product's description, and a redelivery removes nothing", async () => {
    const { id, principalId } = await remediatedApp('rg-del-1', 'web-del-1');
    const ours = env.emulator.state.assignmentsFor(principalId)[0]!;
    const byHand = env.emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.contributor, scope: ours.scope });
    byHand.description = ours.description;
    assert.ok(env.emulator.state.deleteResource(id));

    const from = env.emulator.lastSeq;
    const event = resourceDeleteEvent({ resourceId: id });
    const d = await deliver(app, event);
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
    assert.deepEqual(
      env.emulator.state.assignmentsFor(principalId).map((a) => a.roleDefinitionGuid),
      [ROLE.contributor],
      "the person's assignment stays",
    );
    assert.deepEqual(deletes(from), [`${ours.scope}/providers/Microsoft.Authorization/roleAssignments/${ours.name}`.toLowerCase()]);
    const statuses = (d.outcome!.removed as Array<{ status: string; roleDefinitionGuid?: string; detail?: string }>).map((r) => [
      r.status,
      r.roleDefinitionGuid,
    ]);
    assert.deepEqual(statuses.sort(), [
      ['kept', ROLE.contributor],
      ['removed', ROLE.reader],
    ]);
    // The fewest ARM calls: the resource's 404, one list for its principal, and for the one assignment
    // proven ours its fresh GET and its DELETE (the person's one is kept on the list's word, with no call).
    assert.deepEqual(
      env.emulator.requestsSince(from).map((r) => [r.method, r.status]),
      [
        ['GET', 404],
        ['GET', 200],
        ['GET', 200],
        ['DELETE', 200],
      ],
    );
    const row = (await app.ledger.byResourceId(id))[0]!;
    assert.equal(row.removed?.filter((r) => r.status === 'removed').length, 1, 'the ledger row records the removal');

    const again = env.emulator.lastSeq;
    const redelivered = await deliver(app, event);
    assert.equal(redelivered.error, undefined);
    assert.deepEqual(deletes(again), [], 'a redelivery deletes nothing');
  });

  it('a forged delete event for a living app removes nothing', async () => {
    const { id, principalId } = await remediatedApp('rg-del-2', 'web-del-2');
    const from = env.emulator.lastSeq;
    const d = await deliver(app, resourceDeleteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'skipped', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.skipped?.[0]?.reason, 'resource-exists');
    assert.deepEqual(deletes(from), []);
    assert.equal(env.emulator.state.assignmentsFor(principalId).length, 1);
  });

  it("deleted and made again before the event: the new principal's grants stay", async () => {
    const first = await remediatedApp('rg-del-3', 'web-del-3');
    env.emulator.state.deleteResource(first.id);
    const second = await remediatedApp('rg-del-3', 'web-del-3');
    assert.notEqual(second.principalId, first.principalId);
    const from = env.emulator.lastSeq;
    const d = await deliver(app, resourceDeleteEvent({ resourceId: first.id }));
    assert.equal(d.outcome?.status, 'skipped', JSON.stringify(d.outcome));
    assert.deepEqual(deletes(from), []);
    assert.equal(env.emulator.state.assignmentsFor(second.principalId).length, 1, "the new principal's grant stays");
  });

  it('a CloudEvents delete event cleans up too', async () => {
    const { id, principalId } = await remediatedApp('rg-del-4', 'web-del-4');
    env.emulator.state.deleteResource(id);
    const d = await deliver(app, resourceDeleteEvent({ resourceId: id, schema: 'CloudEventSchemaV1_0' }));
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
    assert.equal(env.emulator.state.assignmentsFor(principalId).length, 0);
  });

  it('ignores its own deletes (role assignments, identities, credentials) and extension resources, with no ARM call', async () => {
    const base = `/subscriptions/${SUB_A}/resourceGroups/rg-del-5/providers`;
    const cases: Array<[Record<string, any>, string]> = [
      [
        resourceDeleteEvent({
          resourceId: `${base}/Microsoft.Web/sites/x/providers/Microsoft.Authorization/roleAssignments/0b1c2d3e-0000-4000-8000-000000000000`,
          operationName: 'Microsoft.Authorization/roleAssignments/delete',
        }),
        'not-a-workload',
      ],
      [resourceDeleteEvent({ resourceId: `${base}/Microsoft.ManagedIdentity/userAssignedIdentities/id-x` }), 'not-a-workload'],
      [
        resourceDeleteEvent({
          resourceId: `${base}/Microsoft.ManagedIdentity/userAssignedIdentities/id-x/federatedIdentityCredentials/aks-x`,
          operationName: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
        }),
        'not-a-workload',
      ],
      [
        resourceDeleteEvent({
          resourceId: `${base}/Microsoft.Web/sites/x/providers/Microsoft.Insights/diagnosticSettings/d`,
          operationName: 'Microsoft.Insights/diagnosticSettings/delete',
        }),
        'extension-resource',
      ],
      [resourceDeleteEvent({ resourceId: `${base}/Microsoft.Storage/storageAccounts/st1` }), 'type-not-governed'],
    ];
    const from = env.emulator.lastSeq;
    for (const [event, reason] of cases) {
      const d = await deliver(app, event);
      assert.equal(d.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, reason, JSON.stringify(d.logs));
    }
    assert.deepEqual(env.emulator.requestsSince(from), [], 'none of these reached ARM');
  });
});

describe('ResourceDeleteSuccess: removals are counted in the metrics', () => {
  it('autopilot.removals counts each object by kind and what became of it', async () => {
    grantAppOwner(env.emulator);
    const t = inMemoryTelemetry();
    const counted = buildApp(env, rulesFor(webReaderRules()), {}, {}, { telemetry: t.telemetry });
    const { id, principalId } = await remediatedWebApp(env, counted, 'rg-del-6', 'web-del-6');
    const ours = env.emulator.state.assignmentsFor(principalId)[0]!;
    env.emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.contributor, scope: ours.scope }).description = ours.description;
    env.emulator.state.deleteResource(id);
    const d = await deliver(counted, resourceDeleteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
    const removals = await t.counter(METRIC.removals);
    assert.equal(total(removals, { [ATTR.kind]: 'role-assignment', [ATTR.outcome]: 'removed' }), 1);
    assert.equal(total(removals, { [ATTR.kind]: 'role-assignment', [ATTR.outcome]: 'kept' }), 1);
    assert.equal(total(await t.counter(METRIC.remediations), { [ATTR.outcome]: 'gone' }), 1);
  });
});
