import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CUSTOM_ROLE_CACHE_TTL_MS } from '../../src/config';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();
const RULES = `
version: 1
scope: { subscriptions: ["${SUB_A}"] }
profiles:
  app-config:
    roles:
      - { customRole: Contoso App Config Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
  delegator:
    roles:
      - { customRole: Contoso Delegator, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
  federator:
    roles:
      - { role: Storage Blob Data Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
      - { customRole: Contoso Identity Federator, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
  tunable:
    roles:
      - { customRole: Contoso Tunable, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
rules:
  - name: federated
    match: { resourceGroups: ["rg-federated"] }
    identity: { kind: SystemAssigned }
    profiles: [federator]
  - name: tunable
    match: { resourceGroups: ["rg-tunable"] }
    identity: { kind: SystemAssigned }
    profiles: [tunable]
  - name: sneaky
    match: { resourceGroups: ["rg-sneaky"] }
    identity: { kind: SystemAssigned }
    profiles: [delegator]
  - name: apps
    identity: { kind: SystemAssigned }
    profiles: [app-config]
`;

describe('custom roles', () => {
  let readerGuid: string;
  before(() => {
    grantAppOwner(env.emulator);
    readerGuid = env.emulator.state.addCustomRole({
      roleName: 'Contoso App Config Reader',
      actions: ['Microsoft.AppConfiguration/configurationStores/*/read'],
    }).guid;
    env.emulator.state.addCustomRole({ roleName: 'Contoso Delegator', actions: ['Microsoft.Authorization/*', 'Microsoft.Web/sites/read'] });
    // Writes federated identity credentials through a `/*/` segment: it can mint tokens for any
    // user-assigned identity in scope, the app's own included.
    env.emulator.state.addCustomRole({
      roleName: 'Contoso Identity Federator',
      actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/write'],
    });
  });

  it('resolve by name through the roleDefinitions API once, then from the cache', async () => {
    const app = buildApp(env, rulesFor(RULES));
    const before = env.emulator.lastSeq;
    for (const name of ['web-c1', 'web-c2']) {
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-custom', type: SEED_TYPES.webApp, name });
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      const principal = env.emulator.state.resource(id)!.body.identity.principalId;
      assert.deepEqual(
        env.emulator.state.assignmentsFor(principal).map((a) => a.roleDefinitionGuid),
        [readerGuid],
      );
    }
    const lookups = env.emulator.requestsSince(before).filter((r) => /roleDefinitions/i.test(r.path));
    assert.equal(lookups.length, 1);
    assert.match(lookups[0]!.query.$filter ?? '', /roleName eq 'Contoso App Config Reader'/);
  });

  it('a custom role that can grant access is refused, whatever its name', async () => {
    const app = buildApp(env, rulesFor(RULES));
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-sneaky',
      type: SEED_TYPES.webApp,
      name: 'web-sneaky',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'failed');
    assert.equal(d.outcome?.errors[0].code, 'PrivilegedRoleRefused');
    assert.equal(d.outcome?.errors[0].transient, false);
    assert.equal(d.error, undefined, 'not retried');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined, 'refused before any write');
  });

  it('a custom role that can write federated identity credentials is refused before any write or grant', async () => {
    const app = buildApp(env, rulesFor(RULES));
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-federated',
      type: SEED_TYPES.webApp,
      name: 'web-federated',
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'failed', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.errors[0].code, 'PrivilegedRoleRefused');
    assert.match(
      d.outcome?.errors[0].message,
      /custom role 'Contoso Identity Federator' allows Microsoft\.ManagedIdentity\/userAssignedIdentities\/federatedIdentityCredentials\/write/,
    );
    assert.equal(d.error, undefined, 'not retried');
    assert.deepEqual(
      env.emulator.requestsSince(before, { writesOnly: true }),
      [],
      'no identity write, and not even the harmless Storage Blob Data Reader grant',
    );
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });

  it('a custom role edited to grant access is refused once its cached definition expires (time injected)', async () => {
    let now = 5_000_000;
    const app = buildApp(env, rulesFor(RULES), {}, {}, { roles: { now: () => now } });
    const role = env.emulator.state.addCustomRole({ roleName: 'Contoso Tunable', actions: ['Microsoft.Web/sites/config/list/action'] });
    const deliverNew = async (name: string) => {
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-tunable', type: SEED_TYPES.webApp, name });
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      return { id, d };
    };
    const first = await deliverNew('web-tunable-1');
    assert.equal(first.d.outcome?.status, 'remediated', JSON.stringify(first.d.outcome));
    // Someone widens the role in ARM: now it can write role assignments.
    env.emulator.state.roleDefinitions.get(role.guid)!.permissions = [
      { actions: ['Microsoft.Authorization/roleAssignments/*'], notActions: [] },
    ];
    now += CUSTOM_ROLE_CACHE_TTL_MS - 1;
    const cached = await deliverNew('web-tunable-2');
    assert.equal(cached.d.outcome?.status, 'remediated', 'within the TTL the cached definition is used (the documented bound)');
    now += 1;
    const before = env.emulator.lastSeq;
    const refused = await deliverNew('web-tunable-3');
    assert.equal(refused.d.outcome?.errors[0]?.code, 'PrivilegedRoleRefused', JSON.stringify(refused.d.outcome));
    const reads = env.emulator.requestsSince(before).filter((r) => /roleDefinitions/i.test(r.path));
    assert.equal(reads.length, 1, 're-read from ARM after the TTL');
    assert.equal(env.emulator.state.resource(refused.id)!.body.identity, undefined, 'refused before any write');
  });
});
