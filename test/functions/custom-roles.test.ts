import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SEED_TYPES, seedResource } from '../emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { resourceWriteEvent } from '../support/events';

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
rules:
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
    readerGuid = env.emulator.state.addCustomRole({ roleName: 'Contoso App Config Reader', actions: ['Microsoft.AppConfiguration/configurationStores/*/read'] }).guid;
    env.emulator.state.addCustomRole({ roleName: 'Contoso Delegator', actions: ['Microsoft.Authorization/*', 'Microsoft.Web/sites/read'] });
  });

  it('resolve by name through the roleDefinitions API once, then from the cache', async () => {
    const app = buildApp(env, rulesFor(RULES));
    const before = env.emulator.lastSeq;
    for (const name of ['web-c1', 'web-c2']) {
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-custom', type: SEED_TYPES.webApp, name });
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      const principal = env.emulator.state.resource(id)!.body.identity.principalId;
      assert.deepEqual(env.emulator.state.assignmentsFor(principal).map((a) => a.roleDefinitionGuid), [readerGuid]);
    }
    const lookups = env.emulator.requestsSince(before).filter((r) => /roleDefinitions/i.test(r.path));
    assert.equal(lookups.length, 1);
    assert.match(lookups[0]!.query.$filter ?? '', /roleName eq 'Contoso App Config Reader'/);
  });

  it('a custom role that can grant access is refused, whatever its name', async () => {
    const app = buildApp(env, rulesFor(RULES));
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-sneaky', type: SEED_TYPES.webApp, name: 'web-sneaky' });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'failed');
    assert.equal(d.outcome?.errors[0].code, 'PrivilegedRoleRefused');
    assert.equal(d.outcome?.errors[0].transient, false);
    assert.equal(d.error, undefined, 'not retried');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined, 'refused before any write');
  });
});
