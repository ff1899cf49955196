import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assessRoleAssignments,
  type RoleAssignmentContext,
  resolveRoles,
  roleAssignmentDescription,
  roleAssignmentGrants,
  roleAssignmentOwner,
} from '../../../src/engine/grants/role-assignments';
import { planRemediation } from '../../../src/engine/plan';
import type { Plan } from '../../../src/engine/types';
import { budget, FakeAzure, READER, rgScope, rules, SUB, webApp } from '../fake-ports';

const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7159c3d71';

function planFor(name: string): Plan {
  const result = planRemediation(webApp(name, 'rg-a', { type: 'SystemAssigned', principalId: `pid-${name}` }), rules);
  assert.equal(result.kind, 'plan');
  return (result as Extract<typeof result, { kind: 'plan' }>).plan;
}

async function context(azure: FakeAzure, plan: Plan, principalIsNew = false): Promise<RoleAssignmentContext> {
  return {
    plan,
    resolved: await resolveRoles(plan, azure.ports(), budget()),
    principalId: `pid-${plan.resourceId.split('/').pop()}`,
    principalIsNew,
  };
}

describe('grant kind: Azure role assignments', () => {
  it("the description the product writes is the owner it reads back; someone else's description proves nothing", () => {
    const owner = { rule: 'web', source: 'reader', resourceId: webApp('a').id };
    assert.deepEqual(
      roleAssignmentOwner({ scope: '/x', roleDefinitionGuid: READER, description: roleAssignmentDescription(owner) }),
      owner,
    );
    assert.equal(roleAssignmentOwner({ scope: '/x', roleDefinitionGuid: READER, description: 'granted by hand' }), undefined);
    assert.equal(roleAssignmentOwner({ scope: '/x', roleDefinitionGuid: READER }), undefined);
  });

  it('a missing role is a create for this workload, rule and profile', async () => {
    const azure = new FakeAzure();
    const plan = planFor('a');
    const ctx = await context(azure, plan);
    const actions = roleAssignmentGrants.diff(roleAssignmentGrants.desired(ctx), [], ctx);
    assert.equal(actions.length, 1);
    assert.equal(actions[0]!.kind, 'create');
    assert.deepEqual(actions[0]!.owner, { principalId: 'pid-a', resourceId: plan.resourceId, rule: 'web', source: 'reader' });
  });

  it('an assignment ARM shows was made for this workload and is no longer desired is a remove, with the owner it proves', async () => {
    const azure = new FakeAzure();
    const plan = planFor('b');
    const ctx = await context(azure, plan);
    const ours = {
      scope: rgScope('rg-a'),
      roleDefinitionGuid: CONTRIBUTOR,
      description: roleAssignmentDescription({ rule: 'old-rule', source: 'writer', resourceId: plan.resourceId.toUpperCase() }),
      createdByUs: true,
    };
    const held = {
      scope: rgScope('rg-a'),
      roleDefinitionGuid: READER,
      description: roleAssignmentDescription({ rule: 'web', source: 'reader', resourceId: plan.resourceId }),
      createdByUs: true,
    };
    const actions = roleAssignmentGrants.diff(roleAssignmentGrants.desired(ctx), [ours, held], ctx);
    assert.deepEqual(actions, [
      {
        kind: 'remove',
        grant: ours,
        owner: { principalId: 'pid-b', rule: 'old-rule', source: 'writer', resourceId: plan.resourceId.toUpperCase() },
      },
    ]);
  });

  it('never a remove for what was not made for this workload: by hand, by the product for another resource, or under a copied description', async () => {
    const azure = new FakeAzure();
    const plan = planFor('c');
    const ctx = await context(azure, plan);
    const byHand = { scope: rgScope('rg-b'), roleDefinitionGuid: CONTRIBUTOR, description: 'ops ticket 42' };
    const forOther = {
      scope: rgScope('rg-b'),
      roleDefinitionGuid: CONTRIBUTOR,
      description: roleAssignmentDescription({ rule: 'web', source: 'reader', resourceId: webApp('other').id }),
      createdByUs: true,
    };
    // Anyone who may write role assignments can copy our description; only ARM's createdBy says who wrote it.
    const forged = {
      scope: rgScope('rg-b'),
      roleDefinitionGuid: READER,
      description: roleAssignmentDescription({ rule: 'web', source: 'reader', resourceId: plan.resourceId }),
      createdByUs: false,
    };
    const actions = roleAssignmentGrants.diff(roleAssignmentGrants.desired(ctx), [byHand, forOther, forged], ctx);
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['create'],
    );
  });

  it('observe lists once per subscription, and not at all for a principal this remediation made', async () => {
    const azure = new FakeAzure();
    const plan = planFor('d');
    await roleAssignmentGrants.observe(azure.ports(), await context(azure, plan), budget());
    assert.deepEqual(azure.calls, [`listRoleAssignments ${SUB} pid-d`]);
    azure.calls.length = 0;
    assert.deepEqual(await roleAssignmentGrants.observe(azure.ports(), await context(azure, plan, true), budget()), []);
    assert.deepEqual(azure.calls, []);
  });

  it('assessment marks presence from the diff and leaves the plan as it was', async () => {
    const azure = new FakeAzure();
    const plan = planFor('e');
    const before = structuredClone(plan);
    azure.roleAssignments.push({ scope: rgScope('rg-a'), roleDefinitionGuid: READER, principalId: 'pid-e' });
    const { assessed, actions } = await assessRoleAssignments(await context(azure, plan), azure.ports(), budget());
    assert.deepEqual(
      assessed.map((r) => r.present),
      [true],
    );
    assert.deepEqual(actions, []);
    assert.deepEqual(plan, before);
  });
});
