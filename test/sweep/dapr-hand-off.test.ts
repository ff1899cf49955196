import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import type { ActionRecord } from '../../src/engine/types';
import type { HandOffStore } from '../../src/ledger/hand-offs';
import { MemoryLedger } from '../../src/ledger/memory-ledger';
import { TableLedger } from '../../src/ledger/table-ledger';
import { useAzurite } from '../support/azurite';

const storage = useAzurite();

/**
 * A remediation handed off after Cosmos DB data-plane grants or an azureClientId write carries those
 * actions on: the stored hand-off (the ledger's table; the queue message names it by id) must keep
 * them, or the ledger would lose what was done.
 */
describe('stored hand-offs carry the second grant kind and Dapr component writes', () => {
  it('keeps resume actions of the new kinds, in the table and in memory', async () => {
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
    const resourceId = '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.App/containerApps/ca';
    const table = TableClient.fromConnectionString(storage.azurite.connectionString, 'daprhandoffs', { allowInsecureConnection: true });
    const stores: HandOffStore[] = [new TableLedger(table).handOffs, new MemoryLedger().handOffs];
    for (const store of stores) {
      const id = await store.save(
        { remediationId: 'r', resourceId, correlationId: 'c', resume: { attempt: 1, actions, principalIsNew: false } },
        60_000,
      );
      const check = await store.check(id, resourceId, Date.now());
      assert.ok(check.kind === 'verified', JSON.stringify(check));
      assert.deepEqual(check.handOff.resume?.actions, actions);
    }
  });
});
