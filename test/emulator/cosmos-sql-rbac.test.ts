import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { cosmosAssignments } from '../../tools/arm-emulator/handlers/cosmos-sql-rbac';
import { seedChildScope, seedScopeResource } from '../../tools/arm-emulator/seed';
import { seedCosmosAccount } from '../../tools/arm-emulator/seed-dapr';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

/**
 * The emulator's Cosmos DB SQL role assignments as Azure runs them: one write per account at a time
 * (412 PreconditionFailed with the exclusive-lock text quoted in hashicorp/terraform-provider-azurerm
 * issues 15842 and 17233), long-running PUT and DELETE (rbac.json 2024-11-15), and only the scopes
 * Cosmos DB accepts (the account, /dbs/{db}, /dbs/{db}/colls/{container}). Also: Azure RBAC role
 * assignments at a blob container's scope, accepted only when the container exists.
 */
const env = useEmulator({ lro: { durationMs: 400, retryAfterSeconds: 0 } });
const API = '2024-11-15';
const GUID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('emulator: Cosmos DB SQL role assignments', () => {
  let account: string;
  let principal: string;
  const assignment = (name: string) => `${account}/sqlRoleAssignments/${name}?api-version=${API}`;
  const body = (scope: string, role = '00000000-0000-0000-0000-000000000001') => ({
    properties: { roleDefinitionId: `${account}/sqlRoleDefinitions/${role}`, scope, principalId: principal },
  });
  /** Polls a write's Azure-AsyncOperation monitor until it ends. */
  async function settle(monitor: string): Promise<string> {
    for (;;) {
      const status = (await rawArm(env.emulator, 'GET', monitor.slice(env.emulator.url.length))).json.status as string;
      if (status !== 'InProgress') return status;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(() => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
    account = seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-cosmos', name: 'cosmos-lock' });
    principal = env.emulator.state.directory.create({ type: 'ServicePrincipal', displayName: 'reader' }).id;
  });

  it('a write holds the account lock: a second write is refused with 412 until it ends', async () => {
    const first = await rawArm(env.emulator, 'PUT', assignment(GUID(1)), { body: body(account) });
    assert.equal(first.status, 202);
    assert.equal(cosmosAssignments(env.emulator.state, account).length, 0, 'not listed while the write runs');
    const second = await rawArm(env.emulator, 'PUT', assignment(GUID(2)), { body: body(`${account}/dbs/orders`) });
    assert.equal(second.status, 412);
    assert.equal(second.json.error.code, 'PreconditionFailed');
    assert.match(
      second.json.error.message,
      /^There is another user operation in progress which requires an exclusive lock on \[cosmos-lock\]\. Please retry after sometime\./,
    );
    assert.equal(await settle(String(first.headers['azure-asyncoperation'])), 'Succeeded');
    assert.equal(cosmosAssignments(env.emulator.state, account).length, 1);
    const retried = await rawArm(env.emulator, 'PUT', assignment(GUID(2)), { body: body(`${account}/dbs/orders`) });
    assert.equal(retried.status, 202, 'accepted once the lock is free');
    await settle(String(retried.headers['azure-asyncoperation']));
  });

  it('DELETE is long-running and holds the lock too; the assignment goes when it ends', async () => {
    const deleting = await rawArm(env.emulator, 'DELETE', assignment(GUID(1)));
    assert.equal(deleting.status, 202);
    assert.ok(deleting.headers['azure-asyncoperation']);
    assert.equal((await rawArm(env.emulator, 'GET', assignment(GUID(1)))).status, 200, 'still there while the delete runs');
    const during = await rawArm(env.emulator, 'PUT', assignment(GUID(3)), { body: body(`${account}/dbs/orders/colls/items`) });
    assert.equal(during.status, 412);
    assert.equal((await rawArm(env.emulator, 'DELETE', assignment(GUID(2)))).status, 412, 'a second delete waits as well');
    assert.equal(await settle(String(deleting.headers['azure-asyncoperation'])), 'Succeeded');
    assert.equal((await rawArm(env.emulator, 'GET', assignment(GUID(1)))).status, 404);
    assert.equal((await rawArm(env.emulator, 'DELETE', assignment(GUID(1)))).status, 204, 'deleting what is gone: 204');
  });

  it('scopes: the account, a database or a container of it, nothing else', async () => {
    for (const scope of [
      `${account}/dbs/orders/colls/items/docs/one`,
      `${account}/dbs/orders/`,
      `${account}/colls/items`,
      `${account}-other/dbs/orders`,
      `/subscriptions/${SUB_A}`,
    ]) {
      const r = await rawArm(env.emulator, 'PUT', assignment(GUID(9)), { body: body(scope) });
      assert.equal(r.status, 400, scope);
    }
    const container = await rawArm(env.emulator, 'PUT', assignment(GUID(4)), { body: body(`${account}/dbs/orders/colls/items`) });
    assert.equal(container.status, 202);
    await settle(String(container.headers['azure-asyncoperation']));
    assert.ok(cosmosAssignments(env.emulator.state, account).some((a) => a.properties.scope === `${account}/dbs/orders/colls/items`));
  });
});

describe('emulator: Azure RBAC at a storage child scope', () => {
  it('a role assignment at a blob container is accepted when the container exists, 404 when it does not', async () => {
    const storage = seedScopeResource(
      env.emulator.state,
      `/subscriptions/${SUB_A}/resourceGroups/rg-cosmos/providers/Microsoft.Storage/storageAccounts/stchild`,
    );
    const principal = env.emulator.state.directory.create({ type: 'ServicePrincipal', displayName: 'blob-user' }).id;
    const put = (scope: string, name: string) =>
      rawArm(env.emulator, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`, {
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe`,
            principalId: principal,
            principalType: 'ServicePrincipal',
          },
        },
      });
    const missing = await put(`${storage}/blobServices/default/containers/absent`, GUID(21));
    assert.equal(missing.status, 404);
    const container = seedChildScope(env.emulator.state, storage, 'blobServices/default/containers/state');
    const made = await put(container, GUID(22));
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.equal(made.json.properties.scope, container);
  });
});
