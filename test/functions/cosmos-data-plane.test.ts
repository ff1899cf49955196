/**
 * Issue 14, item 3: Cosmos DB data-plane roles as a second kind of grant, named by a profile (not only
 * through Dapr), through the Event Grid trigger, with the app holding only the derived grants.
 * Issue 23, item 11: one account's SQL role assignment writes one at a time (Cosmos DB's account lock,
 * 412), someone else's lock waited out, and a 409 believed only when a read shows the grant.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { cosmosAssignmentName } from '../../src/engine/grants/cosmos-sql-role-assignments';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { beginForeignCosmosWrite, cosmosAssignments } from '../../tools/arm-emulator/handlers/cosmos-sql-rbac';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { seedCosmosAccount, seedDaprComponent, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const RG = 'rg-data';
const ACCOUNT = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-orders`;
const ENV = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-demo`;

const RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.Web/sites, Microsoft.App/containerApps]
profiles:
  orders-data:
    roles:
      - cosmosDataRole: Cosmos DB Built-in Data Reader
        scope: "${ACCOUNT}"
  orders-both:
    roles:
      - cosmosDataRole: Cosmos DB Built-in Data Reader
        scope: "${ACCOUNT}"
      - cosmosDataRole: Cosmos DB Built-in Data Contributor
        scope: "${ACCOUNT}"
rules:
  - name: web-both
    match: { types: [Microsoft.Web/sites], tags: { data: both } }
    identity: { kind: SystemAssigned }
    profiles: [orders-both]
  - name: web
    match: { types: [Microsoft.Web/sites] }
    identity: { kind: SystemAssigned }
    profiles: [orders-data]
  - name: dapr-apps
    match: { types: [Microsoft.App/containerApps] }
    identity: { kind: SystemAssigned }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
`;

const env = useEmulator();

describe('Cosmos DB data-plane grants', () => {
  let app: Autopilot;
  before(() => {
    const rules = rulesFor(RULES);
    const permissions = grantDerived(env, rules, SUB_A);
    // Held only where the rules can name an account (scripts/infra/bounds.ts), never in the engine role.
    assert.ok(!permissions.actions.includes('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write'));
    assert.ok(permissions.scopedGrants.some((g) => g.actions.includes('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write')));
    // Cosmos DB's SQL roles are not Azure RBAC roles: they never enter the role assigner's condition.
    assert.ok(!permissions.assignableRoleGuids.some((g) => g.startsWith('00000000-0000-0000-0000-00000000000')));
    seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'cosmos-orders' });
    seedManagedEnvironment(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'env-demo' });
    // The emulator's Resource Graph loads Microsoft's KQL parser (compiled to JavaScript) on first use,
    // which takes seconds on a busy machine; real Resource Graph answers in well under one. Load it now,
    // so no remediation's time budget pays for it.
    compileKql('resources | take 1');
    app = buildApp(env, rules);
  });

  it('a profile grants a Cosmos DB SQL role as a sqlRoleAssignment with a deterministic name', async () => {
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.webApp, name: 'web-orders' });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    const held = cosmosAssignments(env.emulator.state, ACCOUNT).filter((a) => a.properties.principalId === principal);
    assert.equal(held.length, 1);
    const planned = {
      kind: 'cosmos-sql',
      source: 'orders-data',
      accountId: ACCOUNT,
      roleDefinitionGuid: '00000000-0000-0000-0000-000000000001',
      roleDisplayName: '',
      scope: ACCOUNT,
    } as const;
    assert.equal(held[0]!.name, cosmosAssignmentName(planned, principal));
    assert.equal(held[0]!.properties.roleDefinitionId, `${ACCOUNT}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000001`);
    assert.ok(d.outcome!.actions.some((a: { kind: string }) => a.kind === 'cosmos-role-assigned'));
    assert.deepEqual(env.emulator.state.assignmentsFor(principal), [], 'no Azure RBAC assignment for it');
  });

  it('a brand-new principal Cosmos DB does not know yet is retried until it replicates', async () => {
    env.emulator.state.directory.replicationDelayMs = 1500;
    try {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: RG,
        type: SEED_TYPES.webApp,
        name: 'web-replicating',
      });
      const before = env.emulator.lastSeq;
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      const refusals = env.emulator.requestsSince(before).filter((r) => /sqlRoleAssignments/i.test(r.path) && r.status === 400);
      assert.ok(refusals.length > 0, 'Cosmos DB refused the principal at first');
      const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
      assert.equal(cosmosAssignments(env.emulator.state, ACCOUNT).filter((a) => a.properties.principalId === principal).length, 1);
    } finally {
      env.emulator.state.directory.replicationDelayMs = 0;
    }
  });

  it('the same grant under another name counts as held (409), and nothing is duplicated', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.webApp,
      name: 'web-pregranted',
      identity: { type: 'SystemAssigned' },
    });
    const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    // Someone granted it by hand, under their own assignment id; the app's list call is made to fail
    // so the product cannot see it before writing (a list that raced the other grant).
    const manual = `${ACCOUNT}/sqlRoleAssignments/11111111-2222-4333-8444-555555555555`;
    env.emulator.state.resources.set(manual.toLowerCase(), {
      id: manual,
      body: {
        id: manual,
        name: '11111111-2222-4333-8444-555555555555',
        type: 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
        properties: {
          roleDefinitionId: `${ACCOUNT}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000001`,
          scope: ACCOUNT,
          principalId: principal,
        },
      },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'compliant', JSON.stringify(d.outcome));
    assert.equal(cosmosAssignments(env.emulator.state, ACCOUNT).filter((a) => a.properties.principalId === principal).length, 1);
  });

  it('azureClientId is never written into a component whose secrets a GET does not return', async () => {
    // A system-assigned app needs no azureClientId; here the point is the inline secret: plan shows it.
    seedDaprComponent(env.emulator.state, ENV, 'state-secret', {
      componentType: 'state.azure.cosmosdb',
      metadata: [
        { name: 'url', value: 'https://cosmos-orders.documents.azure.com:443/' },
        { name: 'database', value: 'orders' },
        { name: 'collection', value: 'state' },
        { name: 'masterKey', secretRef: 'cosmos-key' },
      ],
      secrets: [{ name: 'cosmos-key', value: 'c2VjcmV0' }],
      scopes: ['ca-secret'],
    });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerApp,
      name: 'ca-secret',
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.equal(d.outcome!.dapr.components[0].clientId.action, 'none');
    assert.deepEqual(
      env.emulator.requestsSince(before, { writesOnly: true }).filter((r) => /daprComponents/i.test(r.path)),
      [],
    );
    assert.doesNotMatch(JSON.stringify(d.logs), /c2VjcmV0/, 'the secret value appears in no log');
  });
  /** Cosmos DB SQL role assignment writes run for `ms` (each holds the account's lock meanwhile). */
  function slowCosmosWrites(t: { after: (fn: () => void) => void }, ms: number) {
    env.emulator.lro.durationMs = ms;
    t.after(() => {
      env.emulator.lro.durationMs = 0;
      env.emulator.faults.clear();
    });
  }
  const sqlWrites = (since: number) =>
    env.emulator.requestsSince(since).filter((r) => /sqlRoleAssignments\//i.test(r.path) && (r.method === 'PUT' || r.method === 'DELETE'));

  it('two roles on one account go through in one delivery, one write at a time (no 412)', async (t) => {
    slowCosmosWrites(t, 300);
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.webApp,
      name: 'web-both-roles',
      tags: { data: 'both' },
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    const held = cosmosAssignments(env.emulator.state, ACCOUNT).filter((a) => a.properties.principalId === principal);
    assert.deepEqual(held.map((a) => String(a.properties.roleDefinitionId).slice(-1)).sort(), ['1', '2'], 'both roles, in one delivery');
    assert.deepEqual(
      sqlWrites(before).map((r) => r.status),
      [202, 202],
      'two writes, the second after the first ended: Cosmos DB never refused one',
    );
  });

  it("someone else's write holding the account's lock (412) is waited out, bounded, and the grant made", async (t) => {
    slowCosmosWrites(t, 0);
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.webApp, name: 'web-locked' });
    // Another caller's SQL role assignment write starts just as the product's first write arrives.
    env.emulator.faults.add({
      method: 'PUT',
      path: /sqlRoleAssignments\//i,
      times: 1,
      action: { kind: 'run', run: (state) => void beginForeignCosmosWrite(state, ACCOUNT, 700) },
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const writes = sqlWrites(before);
    assert.equal(writes[0]?.status, 412, 'refused while the other write held the lock');
    assert.equal(writes.at(-1)?.status, 202, 'made once it ended');
    assert.ok(writes.length <= 8, `bounded retries (${writes.length} writes)`);
    const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    assert.equal(cosmosAssignments(env.emulator.state, ACCOUNT).filter((a) => a.properties.principalId === principal).length, 1);
  });

  it('a 409 the account does not explain is not taken as "already granted": a read decides', async (t) => {
    slowCosmosWrites(t, 0);
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.webApp, name: 'web-409' });
    env.emulator.faults.add({
      method: 'PUT',
      path: /sqlRoleAssignments\//i,
      times: 1,
      action: { kind: 'error', status: 409, code: 'Conflict', message: 'Conflict.' },
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    assert.equal(cosmosAssignments(env.emulator.state, ACCOUNT).filter((a) => a.properties.principalId === principal).length, 0);
    assert.ok(
      !d.outcome?.actions.some((a: { kind: string }) => a.kind === 'cosmos-role-already-assigned'),
      'never reports a grant Azure does not show',
    );
    assert.notEqual(d.outcome?.status, 'remediated');
    assert.notEqual(d.outcome?.status, 'compliant');
    const after409 = env.emulator.requestsSince(before).filter((r) => /sqlRoleAssignments$/i.test(r.path) && r.method === 'GET');
    assert.ok(after409.length > 0, 'the account was read after the 409');
  });
});
