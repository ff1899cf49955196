import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportPlan } from '../../src/engine/plan-report';
import type { Plan } from '../../src/engine/types';

const plan = {
  resourceId: '/r',
  roleAssignments: [
    {
      profile: 'p',
      role: { kind: 'builtin', roleDefinitionGuid: 'g', displayName: 'Reader' },
      roleDefinitionGuid: 'g',
      roleDisplayName: 'Reader',
      scope: '/s',
    },
  ],
  dataPlaneRoleAssignments: [
    { kind: 'cosmos-sql', source: 'p', accountId: '/a', roleDefinitionGuid: '1', roleDisplayName: 'R', scope: '/a' },
    { kind: 'cosmos-sql', source: 'p', accountId: '/a', roleDefinitionGuid: '2', roleDisplayName: 'W', scope: '/a' },
  ],
  dapr: {
    appId: 'app',
    environmentId: '/env',
    components: [{ name: 'c', id: '/env/C', componentType: 't', status: 'grants', targets: [], problems: [] }],
  },
} as unknown as Plan;

describe('plan report: the plan joined with what was observed, for the outcome', () => {
  it('shows presence and decisions without touching the plan', () => {
    const before = structuredClone(plan);
    const report = reportPlan(plan, {
      roleAssignments: [{ ...plan.roleAssignments[0]!, roleDefinitionGuid: 'g', roleDefinitionId: '/defs/g', present: true }],
      missingDataPlane: [plan.dataPlaneRoleAssignments![1]!],
      daprClientIds: new Map([['/env/c', { action: 'none' as const, detail: 'one identity' }]]),
    });
    assert.equal(report.roleAssignments[0]!.present, true);
    assert.deepEqual(
      report.dataPlaneRoleAssignments!.map((d) => d.present),
      [true, false],
    );
    assert.equal(report.dapr!.components[0]!.clientId?.detail, 'one identity');
    assert.deepEqual(plan, before);
  });

  it('nothing observed yet: the plan as planned, without presence', () => {
    const report = reportPlan(plan);
    assert.equal(report.dataPlaneRoleAssignments![0]!.present, undefined);
    assert.equal(report.dapr!.components[0]!.clientId, undefined);
  });
});
