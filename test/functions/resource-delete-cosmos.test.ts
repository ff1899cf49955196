import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { resourceDeleteEvent, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { cosmosAssignments } from '../../tools/arm-emulator/handlers/cosmos-sql-rbac';
import { seedCosmosAccount } from '../../tools/arm-emulator/seed-dapr';
import { key } from '../../tools/arm-emulator/state';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

/**
 * Clean-up on delete reaches the data plane: the Cosmos DB SQL role assignment the product made for the
 * deleted app (its deterministic name) goes; one made for the same principal by someone else stays.
 */
const RG = 'rg-cosmos-del';
const ACCOUNT = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-del`;
const RULES = `
version: 1
scope: { subscriptions: ["${SUB_A}"] }
profiles:
  orders-data:
    roles:
      - cosmosDataRole: Cosmos DB Built-in Data Reader
        scope: "${ACCOUNT}"
rules:
  - name: web
    match: { types: [Microsoft.Web/sites] }
    identity: { kind: SystemAssigned }
    profiles: [orders-data]
`;
const env = useEmulator();

describe('ResourceDeleteSuccess: Cosmos DB data-plane grants', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'cosmos-del' });
    app = buildApp(env, rulesFor(RULES));
  });

  it("removes the deleted app's SQL role assignment and keeps another one of its principal", async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.webApp,
      name: 'web-cosmos-del',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principalId = String(d.outcome!.principalId);
    const ours = cosmosAssignments(env.emulator.state, ACCOUNT).find((a) => a.properties.principalId === principalId)!;
    // A person gives the same principal another data role, under a name of their own.
    const byHand = `${ACCOUNT}/sqlRoleAssignments/${randomUUID()}`;
    env.emulator.state.resources.set(key(byHand), {
      id: byHand,
      body: {
        id: byHand,
        name: byHand.split('/').pop(),
        type: 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
        properties: { roleDefinitionId: `${ACCOUNT}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002`, scope: ACCOUNT, principalId },
      },
    });
    env.emulator.state.deleteResource(id);

    const out = await deliver(app, resourceDeleteEvent({ resourceId: id }));
    assert.equal(out.outcome?.status, 'gone', JSON.stringify(out.outcome));
    const left = cosmosAssignments(env.emulator.state, ACCOUNT)
      .filter((a) => a.properties.principalId === principalId)
      .map((a) => a.id.toLowerCase());
    assert.deepEqual(left, [byHand.toLowerCase()], "only the person's assignment stays");
    const records = out.outcome!.removed as Array<{ kind: string; id: string; status: string }>;
    assert.deepEqual(
      records
        .filter((r) => r.kind === 'cosmos-sql-role-assignment')
        .map((r) => [r.id.toLowerCase(), r.status])
        .sort(),
      [
        [String(ours.id).toLowerCase(), 'removed'],
        [byHand.toLowerCase(), 'kept'],
      ].sort(),
    );
  });
});
