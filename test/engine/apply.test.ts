import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesText } from '../../src/config';
import { applyPlan, PartialApplyError } from '../../src/engine/apply';
import { planRemediation } from '../../src/engine/plan';
import type { Plan, ResourceState } from '../../src/engine/types';
import { ArmCallError } from '../../src/errors';
import { budget, FakeAzure, READER, rgScope, SUB, webApp } from './fake-ports';

const settings = {
  principalNotFoundBackoff: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
  conflictBackoff: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
};

const rules = parseRulesText(
  `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles:
  two:
    roles:
      - { role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
      - { role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/rg-shared" }
rules:
  - name: ua
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    profiles: [two]
`,
  'apply-test.yaml',
);

function planFor(resource: ResourceState): Plan {
  const result = planRemediation(resource, rules);
  assert.equal(result.kind, 'plan', JSON.stringify(result));
  return (result as Extract<typeof result, { kind: 'plan' }>).plan;
}

describe('applyPlan: the writes a plan needs, through the ports', () => {
  it('ensures the user-assigned identity, attaches it, then grants each role to its principal (a new one: nothing listed)', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('a1'));
    const result = await applyPlan(planFor(app), app, azure.ports(), settings, budget(), {});
    const identityId = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a1`;
    assert.deepEqual(azure.calls, [
      `ensureIdentity ${identityId}`,
      `writeIdentity ${app.id} UserAssigned`,
      `createRoleAssignment ${rgScope('rg-a')} ${READER}`,
      `createRoleAssignment ${rgScope('rg-shared')} ${READER}`,
    ]);
    assert.equal(result.principalId, 'pid-id-a1');
    assert.equal(result.grantee?.clientId, 'client-id-a1');
    assert.deepEqual(
      result.observed.roleAssignments?.map((r) => r.present),
      [true, true],
    );
    assert.ok(azure.roleAssignments.every((r) => r.description === `identity-autopilot: rule 'ua', profile 'two', for ${app.id}`));
  });

  it('an identity already attached: lists what its principal holds and grants only what is missing', async () => {
    const azure = new FakeAzure();
    const identityId = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a2`;
    const app = azure.add(
      webApp('a2', 'rg-a', {
        type: 'UserAssigned',
        userAssignedIdentities: { [identityId]: { principalId: 'ua-pid', clientId: 'ua-client' } },
      }),
    );
    azure.roleAssignments.push({ scope: rgScope('rg-a'), roleDefinitionGuid: READER, principalId: 'ua-pid' });
    const result = await applyPlan(planFor(app), app, azure.ports(), settings, budget(), {});
    assert.deepEqual(azure.calls, [`listRoleAssignments ${SUB} ua-pid`, `createRoleAssignment ${rgScope('rg-shared')} ${READER}`]);
    assert.deepEqual(
      result.actions.map((a) => a.kind),
      ['role-assigned'],
    );
  });

  it('one grant refused, the other made: a partial apply that keeps what was done and what is still missing', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('a3'));
    const ports = azure.ports();
    const create = ports.roleAssignments.create.bind(ports.roleAssignments);
    ports.roleAssignments.create = async (input, b) => {
      if (input.scope === rgScope('rg-shared')) throw new ArmCallError('AuthorizationFailed', 'no', 403, false);
      return create(input, b);
    };
    const error = await applyPlan(planFor(app), app, ports, settings, budget(), {}).catch((e: unknown) => e);
    assert.ok(error instanceof PartialApplyError, String(error));
    assert.deepEqual(
      error.partial.observed.roleAssignments?.map((r) => [r.scope, r.present]),
      [
        [rgScope('rg-a'), true],
        [rgScope('rg-shared'), false],
      ],
    );
    assert.deepEqual(
      error.partial.actions.map((a) => a.kind),
      ['user-assigned-identity-created', 'identity-written', 'role-assigned'],
    );
  });

  it('a principal Entra has not replicated yet is retried with backoff, then granted', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('a4'));
    const ports = azure.ports();
    const create = ports.roleAssignments.create.bind(ports.roleAssignments);
    let refusals = 2;
    ports.roleAssignments.create = async (input, b) => {
      if (refusals-- > 0) throw new ArmCallError('PrincipalNotFound', 'not yet', 400, true);
      return create(input, b);
    };
    const result = await applyPlan(planFor(app), app, ports, settings, budget(), {});
    assert.deepEqual(
      result.observed.roleAssignments?.map((r) => r.present),
      [true, true],
    );
  });
});
