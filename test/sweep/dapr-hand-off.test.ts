import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRecord } from '../../src/engine/types';
import { parseRemediationMessage } from '../../src/sweep';

/**
 * A remediation handed off after Cosmos DB data-plane grants or an azureClientId write carries those
 * actions on the queue: the queue trigger must accept them, or the hand-off would be poisoned and the
 * ledger would lose what was done.
 */
describe('hand-off messages carry the second grant kind and Dapr component writes', () => {
  it('parses resume actions of the new kinds', () => {
    const account =
      '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acc';
    const actions: ActionRecord[] = [
      {
        kind: 'cosmos-role-assigned',
        accountId: account,
        scope: account,
        roleDefinitionId: `${account}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002`,
        role: 'Cosmos DB Built-in Data Contributor',
        assignmentId: `${account}/sqlRoleAssignments/x`,
      },
      {
        kind: 'cosmos-role-already-assigned',
        accountId: account,
        scope: account,
        roleDefinitionId: `${account}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000001`,
        role: 'Cosmos DB Built-in Data Reader',
      },
      {
        kind: 'dapr-client-id-written',
        componentId:
          '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env/daprComponents/c',
        clientId: 'a1b2',
      },
    ];
    const message = parseRemediationMessage(
      JSON.stringify({
        version: 1,
        resourceId: '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.App/containerApps/ca',
        correlationId: 'c',
        sweepId: '',
        rule: 'r',
        problems: [],
        resume: { attempt: 1, actions, principalIsNew: false },
      }),
    );
    assert.deepEqual(message.resume?.actions, actions);
  });
});
