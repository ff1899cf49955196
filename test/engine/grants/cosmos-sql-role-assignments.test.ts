import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cosmosAssignmentName,
  cosmosRoleDefinitionId,
  cosmosSqlGrants,
  missingCosmosGrants,
} from '../../../src/engine/grants/cosmos-sql-role-assignments';
import type { CosmosSqlRoleAssignmentPlan, Plan } from '../../../src/engine/types';
import { budget, FakeAzure, SUB, webApp } from '../fake-ports';

const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/acct`;
const CONTRIBUTOR = '00000000-0000-0000-0000-000000000002';
const READER = '00000000-0000-0000-0000-000000000001';
const desired: CosmosSqlRoleAssignmentPlan = {
  kind: 'cosmos-sql',
  source: 'data',
  accountId: ACCOUNT,
  roleDefinitionGuid: CONTRIBUTOR,
  roleDisplayName: 'Cosmos DB Built-in Data Contributor',
  scope: ACCOUNT,
};
const plan = { resourceId: webApp('app').id, rule: 'web', dataPlaneRoleAssignments: [desired] } as unknown as Plan;

const existing = (guid: string, principalId: string, name?: string) => ({
  accountId: ACCOUNT,
  roleDefinitionId: cosmosRoleDefinitionId(ACCOUNT, guid),
  scope: ACCOUNT,
  principalId,
  ...(name ? { name } : {}),
});

describe('grant kind: Cosmos DB SQL role assignments', () => {
  it("a missing grant is a create for the plan's owner; a held one is no action", async () => {
    const context = { plan, principalId: 'p1', principalIsNew: false };
    const create = cosmosSqlGrants.diff([desired], [], context);
    assert.deepEqual(create, [
      { kind: 'create', grant: desired, owner: { principalId: 'p1', resourceId: plan.resourceId, rule: 'web', source: 'data' } },
    ]);
    assert.deepEqual(cosmosSqlGrants.diff([desired], [existing(CONTRIBUTOR, 'P1')], context), []);
  });

  it('a grant of ours (its deterministic name) that is no longer desired is a remove; one under another name or for another principal is not', () => {
    const context = { plan, principalId: 'p1', principalIsNew: false };
    const ours = existing(READER, 'p1', cosmosAssignmentName({ scope: ACCOUNT, roleDefinitionGuid: READER }, 'p1'));
    const byHand = existing(READER, 'p1', 'c0ffee00-0000-4000-8000-000000000000');
    const someoneElses = existing(READER, 'p2', cosmosAssignmentName({ scope: ACCOUNT, roleDefinitionGuid: READER }, 'p2'));
    const actions = cosmosSqlGrants.diff([desired], [existing(CONTRIBUTOR, 'p1'), ours, byHand, someoneElses], context);
    assert.deepEqual(actions, [{ kind: 'remove', grant: ours, owner: { principalId: 'p1' } }]);
  });

  it('observe: one list per account; none for a new principal; refused without a port', async () => {
    const azure = new FakeAzure();
    await cosmosSqlGrants.observe(azure.ports(), { plan, principalId: 'p1', principalIsNew: false }, budget());
    assert.deepEqual(azure.calls, [`listCosmos ${ACCOUNT}`]);
    azure.calls.length = 0;
    assert.deepEqual(await missingCosmosGrants({ plan, principalId: 'p1', principalIsNew: true }, azure.ports(), budget()), [desired]);
    assert.deepEqual(azure.calls, []);
    const { cosmosRoleAssignments: _, ...withoutPort } = azure.ports();
    await assert.rejects(
      cosmosSqlGrants.observe(withoutPort, { plan, principalId: 'p1', principalIsNew: false }, budget()),
      (e: { code?: string }) => e.code === 'CosmosUnavailable',
    );
  });
});
