import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

/**
 * What proves a role assignment ours when the engine plans a removal: ARM's `createdBy` (only ARM writes
 * it) read through the real SDK adapter, not the description anyone who may write assignments can copy.
 */
const env = useEmulator();
const RULES = `
version: 1
scope: { subscriptions: ["${SUB_A}"] }
profiles:
  reader:
    roles:
      - { role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
rules:
  - name: web
    match: { types: ["Microsoft.Web/sites"] }
    identity: { kind: SystemAssigned }
    profiles: [reader]
`;

describe('ArmRoleAssignmentPort: which assignments ARM says the app made', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES));
  });

  it("marks the app's own assignment createdByUs, and one another principal made (same description or not) not", async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-owned',
      type: SEED_TYPES.webApp,
      name: 'owned-1',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principalId = String(d.outcome!.principalId);
    const rg = `/subscriptions/${SUB_A}/resourceGroups/rg-owned`;
    const ours = env.emulator.state.assignmentsFor(principalId).find((a) => a.scope.toLowerCase() === rg.toLowerCase());
    assert.ok(ours?.description, 'the app wrote its assignment with a description');
    // Someone else grants the same principal a role, copying the product's description word for word.
    const byHand = env.emulator.state.grant({ principalId, roleDefinitionGuid: ROLE.contributor, scope: rg });
    byHand.description = ours.description;

    const listed = await app.ports.roleAssignments.listForPrincipal(SUB_A, principalId, { signal: AbortSignal.timeout(10_000) });
    const byGuid = new Map(listed.map((a) => [a.roleDefinitionGuid, a]));
    assert.equal(byGuid.get(ROLE.reader)?.createdByUs, true, JSON.stringify(listed));
    assert.equal(byGuid.get(ROLE.contributor)?.description, ours.description);
    assert.equal(byGuid.get(ROLE.contributor)?.createdByUs, false, JSON.stringify(listed));
  });
});
