/**
 * Deployment slots through the Event Grid trigger: a slot (`Microsoft.Web/sites/{site}/slots/{slot}`)
 * has an identity of its own, which a swap does not move, so a `staging` slot a pipeline creates is
 * remediated like any workload while its site is left as it is.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { key } from '../../tools/arm-emulator/state';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rgReaderRules } from './rules.fixture';

const env = useEmulator();
const RULES = rgReaderRules(`
  - name: slots-user-assigned
    match: { types: [Microsoft.Web/sites/slots], resourceGroups: ["rg-slots-ua"] }
    identity: { kind: UserAssigned, userAssigned: { name: "id-slot-{parentName}_{resourceName}" } }
    profiles: [rg-reader]
  - name: workloads
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
`);

function grantsOf(principalId: string) {
  return env.emulator.state.assignmentsFor(principalId).map((a) => `${a.roleDefinitionGuid} @ ${a.scope.toLowerCase()}`);
}

describe('Event Grid trigger: deployment slots', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES));
  });

  it("a new staging slot gets its own identity and roles through WebApps_UpdateSlot; the site's identity stays as it was", async () => {
    const site = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-slots',
      type: SEED_TYPES.webApp,
      name: 'web-shop',
      identity: { type: 'SystemAssigned' },
    });
    const siteIdentity = structuredClone(env.emulator.state.resource(site)!.body.identity);
    const slot = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-slots',
      type: SEED_TYPES.deploymentSlot,
      parent: 'web-shop',
      name: 'staging',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: slot }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const identity = env.emulator.state.resource(slot)!.body.identity;
    assert.equal(identity.type, 'SystemAssigned');
    assert.notEqual(identity.principalId, siteIdentity.principalId, "the slot's principal is its own");
    assert.equal(d.outcome!.principalId, identity.principalId);
    assert.deepEqual(grantsOf(identity.principalId), [`${ROLE.reader} @ /subscriptions/${SUB_A}/resourcegroups/rg-slots`]);
    assert.deepEqual(env.emulator.state.resource(site)!.body.identity, siteIdentity);
    const writes = env.emulator.requestsSince(seq, { writesOnly: true }).filter((r) => !r.path.includes('roleAssignments'));
    assert.deepEqual(
      writes.map((w) => `${w.method} ${w.path}`),
      [`PATCH ${slot}`],
      'one write, to the slot only',
    );
    assert.deepEqual(writes[0]!.body, { identity: { type: 'SystemAssigned' } });
  });

  it('{parentName} keeps the identities of every site\'s "staging" slot apart, even where a hyphen could split the names either way', async () => {
    const names: string[] = [];
    // web-a/staging and web/a-staging would both be "web-a-staging" joined by a hyphen.
    for (const [site, name] of [
      ['web-a', 'staging'],
      ['web-b', 'staging'],
      ['web', 'a-staging'],
    ] as const) {
      const slot = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-slots-ua',
        type: SEED_TYPES.deploymentSlot,
        parent: site,
        name,
      });
      const d = await deliver(app, resourceWriteEvent({ resourceId: slot }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      names.push(...Object.keys(env.emulator.state.resource(slot)!.body.identity.userAssignedIdentities).map((id) => id.split('/').pop()!));
    }
    assert.deepEqual(names, ['id-slot-web-a_staging', 'id-slot-web-b_staging', 'id-slot-web_a-staging']);
  });

  it('a slot whose site was deleted before the event arrived ends as gone (ParentResourceNotFound is a 404)', async () => {
    const slot = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-slots',
      type: SEED_TYPES.deploymentSlot,
      parent: 'web-gone',
      name: 'staging',
    });
    // Only the site goes: the slot stays stored, so the 404 is ARM's parent check, not a missing slot.
    env.emulator.state.resources.delete(key(slot.slice(0, slot.indexOf('/slots/'))));
    assert.ok(env.emulator.state.resource(slot), 'the slot itself is still stored');
    const d = await deliver(app, resourceWriteEvent({ resourceId: slot }));
    assert.equal(d.error, undefined, 'not redelivered');
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
  });

  it('other children of a site (its config) are still skipped without an ARM call', async () => {
    const seq = env.emulator.lastSeq;
    const config = `/subscriptions/${SUB_A}/resourceGroups/rg-slots/providers/Microsoft.Web/sites/web-shop/config/appsettings`;
    const d = await deliver(app, resourceWriteEvent({ resourceId: config, operationName: 'Microsoft.Web/sites/config/write' }));
    const reason = d.logs.find((l) => l.record.event === 'event.ignored')?.record.reason ?? d.outcome?.skipped?.[0]?.reason;
    assert.equal(reason, 'child-resource');
    assert.deepEqual(env.emulator.requestsSince(seq), []);
  });
});
