/**
 * Issue 10, item 3: a user-assigned identity is only ever reused by the resource it was made for.
 * Through the Event Grid trigger and the emulator, with exactly the grants infra/ derives (no Owner).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { OWNER_TAG } from '../../src/azure/user-assigned-identity-port';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const IDENTITY_RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.App/containerApps, Microsoft.ContainerInstance/containerGroups]
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
rules:
  # Identities of every team's container groups in one central resource group: names collide across teams.
  - name: central-identities
    match: { types: [Microsoft.ContainerInstance/containerGroups] }
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}", resourceGroup: rg-identities } }
    profiles: [rg-reader]
    workload: { allowRestart: true }
  - name: batch-shared
    match: { types: [Microsoft.App/containerApps], resourceGroups: [rg-batch] }
    identity: { kind: UserAssigned, userAssigned: { name: id-batch, resourceGroup: rg-batch, shared: true } }
    profiles: [rg-reader]
  - name: apps
    match: { types: [Microsoft.App/containerApps] }
    identity: { kind: UserAssigned, userAssigned: { name: "id-ca-{resourceName}" } }
    profiles: [rg-reader]
`;

const env = useEmulator();
const uaId = (rg: string, name: string) =>
  `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

describe('user-assigned identities: bound to the resource they were made for', () => {
  let app: Autopilot;

  before(() => {
    const rules = rulesFor(IDENTITY_RULES);
    assert.deepEqual(
      rules.warnings?.map((w) => w.keyPath),
      ['rules[0].identity.userAssigned.name'],
      'the loader warns that the central rule names identities per resource name only',
    );
    grantDerived(env, rules, SUB_A);
    env.emulator.state.addResourceGroup(SUB_A, 'rg-identities');
    app = buildApp(env, rules);
  });

  async function refusedNotOwned(id: string, detail: RegExp): Promise<void> {
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined);
    assert.equal(d.outcome?.status, 'failed', JSON.stringify(d.outcome));
    assert.equal(d.outcome?.errors[0].code, 'IdentityNotOwned');
    assert.equal(d.outcome?.errors[0].transient, false);
    assert.match(d.outcome?.errors[0].message, detail);
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined, 'nothing attached');
  }

  it("a name collision with another team's identity is refused (IdentityNotOwned), and leaves theirs alone", async () => {
    const teamA = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-team-a',
      type: SEED_TYPES.containerGroup,
      name: 'orders',
    });
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: teamA }))).outcome?.status, 'remediated');
    const theirs = env.emulator.state.resource(uaId('rg-identities', 'id-orders'))!.body;
    assert.equal(theirs.tags[OWNER_TAG], teamA.toLowerCase(), 'the owner is recorded on the identity');
    const grantsBefore = env.emulator.state.assignmentsFor(theirs.properties.principalId).length;
    // Team B names its own container group the same: the template names team A's identity.
    const teamB = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-team-b',
      type: SEED_TYPES.containerGroup,
      name: 'orders',
    });
    await refusedNotOwned(teamB, /made for '.*rg-team-a.*orders', not for this resource/);
    assert.equal(
      env.emulator.state.assignmentsFor(theirs.properties.principalId).length,
      grantsBefore,
      'no grant of team B went to team A’s identity',
    );
    // Team A's own resource still reuses it.
    env.emulator.state.resource(teamA)!.body.identity = { type: 'None' };
    const again = await deliver(app, resourceWriteEvent({ resourceId: teamA }));
    assert.equal(again.outcome?.status, 'remediated', JSON.stringify(again.outcome));
  });

  it("an identity someone else created, even carrying the app's tags for this very resource, is refused", async () => {
    const victim = `/subscriptions/${SUB_A}/resourceGroups/rg-pay/providers/Microsoft.App/containerApps/payments`;
    // Planted before the victim's app exists, with every tag the app would write: tags prove nothing.
    const planted = seedUserAssignedIdentity(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-pay',
      name: 'id-ca-payments',
    });
    planted.tags = { 'created-by': 'identity-autopilot', 'identity-autopilot-rule': 'apps', [OWNER_TAG]: victim.toLowerCase() };
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-pay',
      type: SEED_TYPES.containerApp,
      name: 'payments',
    });
    assert.equal(id, victim);
    await refusedNotOwned(id, /not created by identity-autopilot \(systemData\.createdBy is 'operator@contoso\.example'\)/);
    assert.deepEqual(env.emulator.state.assignmentsFor(planted.properties.principalId), []);
  });

  it('a squatter creating the identity between our GET and our PUT is detected by the create-only PUT (412)', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-race',
      type: SEED_TYPES.containerApp,
      name: 'race',
    });
    let squatter: Record<string, any> | undefined;
    env.emulator.faults.add({
      method: 'PUT',
      path: '/userAssignedIdentities/id-ca-race',
      times: 1,
      action: {
        kind: 'run',
        run: (state) =>
          void (squatter = seedUserAssignedIdentity(state, { subscriptionId: SUB_A, resourceGroup: 'rg-race', name: 'id-ca-race' })),
      },
    });
    const before = env.emulator.lastSeq;
    await refusedNotOwned(id, /between our read and our create-only PUT \(412\)/);
    const puts = env.emulator
      .requestsSince(before)
      .filter((r) => r.method === 'PUT' && /userAssignedIdentities\/id-ca-race$/i.test(r.path));
    assert.deepEqual(
      puts.map((r) => [r.status, r.errorCode]),
      [[412, 'PreconditionFailed']],
      'the squatter was not overwritten',
    );
    assert.deepEqual(squatter!.tags, {}, 'their identity keeps its own tags');
    assert.deepEqual(env.emulator.state.assignmentsFor(squatter!.properties.principalId), []);
  });

  it('a rule that declares its identity shared gives every resource it matches the same identity', async () => {
    const first = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-batch',
      type: SEED_TYPES.containerApp,
      name: 'job-1',
    });
    const second = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-batch',
      type: SEED_TYPES.containerApp,
      name: 'job-2',
    });
    const d1 = await deliver(app, resourceWriteEvent({ resourceId: first }));
    const d2 = await deliver(app, resourceWriteEvent({ resourceId: second }));
    assert.equal(d1.outcome?.status, 'remediated', JSON.stringify(d1.outcome));
    assert.equal(d2.outcome?.status, 'remediated', JSON.stringify(d2.outcome));
    assert.ok(d2.outcome!.actions.some((a: { kind: string }) => a.kind === 'user-assigned-identity-reused'));
    const shared = uaId('rg-batch', 'id-batch');
    for (const id of [first, second])
      assert.deepEqual(Object.keys(env.emulator.state.resource(id)!.body.identity.userAssignedIdentities), [shared]);
    assert.equal(env.emulator.state.resource(shared)!.body.tags[OWNER_TAG], 'rule:batch-shared');
  });
});
