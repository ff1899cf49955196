import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GrantBlockedError, verifyGrantTargets } from '../../src/engine/grant-targets';
import type { GrantTarget } from '../../src/engine/ports';
import type { Plan } from '../../src/engine/types';
import { budget, SUB, webApp } from './fake-ports';

const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv`;
const plan = (consentTag?: string) =>
  ({
    resourceId: webApp('app').id,
    roleAssignments: [
      {
        profile: 'p',
        role: { kind: 'builtin', roleDefinitionGuid: 'g', displayName: 'R' },
        roleDisplayName: 'R',
        scope: VAULT,
        target: { types: ['Microsoft.KeyVault/vaults'], ...(consentTag ? { consentTag } : {}) },
      },
      {
        profile: 'q',
        role: { kind: 'builtin', roleDefinitionGuid: 'h', displayName: 'S' },
        roleDisplayName: 'S',
        scope: VAULT,
        target: { types: ['Microsoft.KeyVault/vaults'], ...(consentTag ? { consentTag } : {}) },
      },
    ],
  }) as unknown as Plan;

function targets(found: GrantTarget | undefined) {
  const reads: string[] = [];
  return { reads, port: { grantTargets: { read: async (scope: string) => (reads.push(scope), found) } } };
}

describe('grant targets a tag chose: proven by reading them before any write', () => {
  it('a target of a declared type is read once for every grant on it', async () => {
    const { reads, port } = targets({ id: VAULT, type: 'Microsoft.KeyVault/vaults', tags: {}, enableRbacAuthorization: true });
    await verifyGrantTargets(plan(), port, budget());
    assert.deepEqual(reads, [VAULT]);
  });

  it('missing, of another type, or not consenting: refused with its own code', async () => {
    await assert.rejects(
      verifyGrantTargets(plan(), targets(undefined).port, budget()),
      (e: { code?: string }) => e.code === 'GrantTargetNotFound',
    );
    await assert.rejects(
      verifyGrantTargets(plan(), targets({ id: VAULT, type: 'Microsoft.Storage/storageAccounts', tags: {} }).port, budget()),
      (e: { code?: string }) => e.code === 'GrantTargetTypeNotAllowed',
    );
    await assert.rejects(
      verifyGrantTargets(
        plan('grants-to'),
        targets({ id: VAULT, type: 'Microsoft.KeyVault/vaults', tags: { 'grants-to': 'someone-else' } }).port,
        budget(),
      ),
      (e: { code?: string }) => e.code === 'GrantTargetNotConsented',
    );
    await verifyGrantTargets(
      plan('grants-to'),
      targets({ id: VAULT, type: 'Microsoft.KeyVault/vaults', tags: { 'grants-to': SUB }, enableRbacAuthorization: true }).port,
      budget(),
    );
  });

  it('a vault that uses access policies blocks the plan with VaultUsesAccessPolicies and a remedy', async () => {
    for (const enableRbacAuthorization of [false, undefined]) {
      await assert.rejects(
        verifyGrantTargets(
          plan(),
          targets({ id: VAULT, type: 'Microsoft.KeyVault/vaults', tags: {}, enableRbacAuthorization }).port,
          budget(),
        ),
        (e: GrantBlockedError) =>
          e.blocker.code === 'VaultUsesAccessPolicies' &&
          /--enable-rbac-authorization true/.test(e.blocker.remedy ?? '') &&
          /access policy/.test(e.blocker.remedy ?? ''),
      );
    }
  });
});
