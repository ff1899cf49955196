import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resourceDeleteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { remediatedWebApp, webReaderRules } from '../support/lifecycle';

/**
 * Clean-up on delete of a user-assigned identity the product made for the resource, through the real
 * Event Grid trigger: removed (with its principal's grants) when Resource Graph shows nobody holds it,
 * kept with its grants when another resource holds it.
 */
const env = useEmulator();
const uaId = (rg: string, name: string) =>
  `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
const deletes = (from: number) =>
  env.emulator
    .requestsSince(from)
    .filter((r) => r.method === 'DELETE')
    .map((r) => r.path.toLowerCase());

describe('ResourceDeleteSuccess: user-assigned identities the product made for the resource', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(webReaderRules('{ kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }')));
  });

  async function remediatedApp(rg: string, name: string) {
    return { ...(await remediatedWebApp(env, app, rg, name)), identityId: uaId(rg, `id-${name}`) };
  }

  it('removes the identity and its grants when no other resource holds it', async () => {
    const web = await remediatedApp('rg-uadel-1', 'web-ua-1');
    assert.ok(env.emulator.state.resource(web.identityId), 'the product made the identity');
    assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 1);
    env.emulator.state.deleteResource(web.id);
    const from = env.emulator.lastSeq;
    const d = await deliver(app, resourceDeleteEvent({ resourceId: web.id }));
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
    assert.equal(env.emulator.state.resource(web.identityId), undefined, 'the identity is deleted');
    assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 0, "its principal's assignment is deleted");
    const removed = deletes(from);
    assert.equal(removed.length, 2, JSON.stringify(removed));
    assert.match(removed[0]!, /roleassignments/, 'the assignment first');
    assert.equal(removed[1], web.identityId.toLowerCase(), 'the identity last');
  });

  it('keeps the identity and its grants when another resource holds it', async () => {
    const web = await remediatedApp('rg-uadel-2', 'web-ua-2');
    // Someone attaches the identity to a resource of their own.
    seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-other',
      type: SEED_TYPES.webApp,
      name: 'holder-2',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [web.identityId]: {} } },
    });
    env.emulator.state.deleteResource(web.id);
    const from = env.emulator.lastSeq;
    const d = await deliver(app, resourceDeleteEvent({ resourceId: web.id }));
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
    assert.deepEqual(deletes(from), [], 'nothing deleted');
    assert.ok(env.emulator.state.resource(web.identityId), 'the identity stays');
    assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 1, "its principal's grant stays");
    const kept = (d.outcome!.removed as Array<{ kind: string; status: string; detail?: string }>).find(
      (r) => r.kind === 'user-assigned-identity',
    );
    assert.equal(kept?.status, 'kept');
    assert.match(kept!.detail!, /holder-2/);
  });

  it("does not trust Resource Graph's 'nobody holds it' while its answer is older than the identity: nothing removed, delivered again, removed once it caught up", async () => {
    const graph = env.emulator.resourceGraph;
    graph.lagMs = 60_000;
    try {
      const web = await remediatedApp('rg-uadel-3', 'web-ua-3');
      env.emulator.state.deleteResource(web.id);
      const event = resourceDeleteEvent({ resourceId: web.id });
      const from = env.emulator.lastSeq;
      const stale = await deliver(app, event);
      assert.ok(stale.error, 'the delivery asks Event Grid to come again');
      assert.equal(stale.outcome?.errors?.[0]?.code, 'ResourceGraphLagging', JSON.stringify(stale.outcome));
      assert.deepEqual(deletes(from), [], 'nothing deleted on a stale answer');
      assert.ok(env.emulator.state.resource(web.identityId));
      assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 1);

      graph.lagMs = 0;
      const caughtUp = await deliver(app, event);
      assert.equal(caughtUp.error, undefined, String(caughtUp.error));
      assert.equal(env.emulator.state.resource(web.identityId), undefined, 'removed once Resource Graph caught up');
      assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 0);
    } finally {
      graph.lagMs = 0;
    }
  });

  it('keeps the identity while Resource Graph still lists the deleted app as its holder (older than the delete)', async () => {
    const graph = env.emulator.resourceGraph;
    const web = await remediatedApp('rg-uadel-4', 'web-ua-4');
    graph.lagMs = 60_000;
    try {
      env.emulator.state.deleteResource(web.id);
      const from = env.emulator.lastSeq;
      const stale = await deliver(app, resourceDeleteEvent({ resourceId: web.id }));
      assert.ok(stale.error, 'the delivery asks Event Grid to come again');
      assert.equal(stale.outcome?.errors?.[0]?.code, 'ResourceGraphLagging', JSON.stringify(stale.outcome));
      assert.deepEqual(deletes(from), []);
      assert.ok(env.emulator.state.resource(web.identityId));
    } finally {
      graph.lagMs = 0;
    }
  });

  it("keeps the identity while its grant's removal failed; the next delivery removes both", async () => {
    const web = await remediatedApp('rg-uadel-5', 'web-ua-5');
    env.emulator.state.deleteResource(web.id);
    env.emulator.faults.add({
      path: 'roleAssignments',
      method: 'DELETE',
      times: 1,
      action: { kind: 'error', status: 400, code: 'BadRequest' },
    });
    try {
      const first = await deliver(app, resourceDeleteEvent({ resourceId: web.id }));
      assert.equal(first.outcome?.status, 'failed', JSON.stringify(first.outcome));
      assert.ok(env.emulator.state.resource(web.identityId), 'the identity waits for its grant');
      assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 1);
    } finally {
      env.emulator.faults.clear();
    }
    const again = await deliver(app, resourceDeleteEvent({ resourceId: web.id }));
    assert.equal(again.outcome?.status, 'gone', JSON.stringify(again.outcome));
    assert.equal(env.emulator.state.resource(web.identityId), undefined);
    assert.equal(env.emulator.state.assignmentsFor(web.principalId).length, 0);
  });
});
