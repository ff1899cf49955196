/**
 * Issue 22, item 5: the role-assignment budget. Azure allows 4,000 role assignments per subscription and
 * the limit cannot be raised (the emulator refuses the 4,001st: RoleAssignmentLimitExceeded). The timer
 * sweep counts each governed subscription (Resource Graph); near the limit a remediation counts afresh,
 * and with fewer than the reserve left a new grant is `blocked` with RoleAssignmentBudget and the top
 * consumers, before any write; with room it is made. Through the timer and Event Grid triggers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { Timer } from '@azure/functions';
import type { Autopilot } from '../../src/app/composition';
import { triggerNamed } from '../../src/functions/triggers';
import { InMemoryRemediationQueue } from '../../src/sweep/remediation-queue';
import { InMemoryReportStore } from '../../src/sweep/report';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { deliver, grantAppOwner, rulesFor, testInvocation } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { buildSweepApp } from '../sweep/fixture';

const RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.Web/sites]
profiles:
  reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
rules:
  - name: web
    identity: { kind: SystemAssigned }
    profiles: [reader]
`;

const env = useEmulator({ subscriptions: [SUB_A] });

describe('role-assignment budget', () => {
  const heavy = randomUUID();

  /** The app after its timer sweep ran (the sweep's count is what a remediation starts from). */
  async function sweptApp(settings: Record<string, string> = {}): Promise<Autopilot> {
    const app = buildSweepApp(env, rulesFor(RULES), {
      sweep: { queue: new InMemoryRemediationQueue(), reports: new InMemoryReportStore() },
      settings,
    });
    await triggerNamed('timer', 'complianceSweep', () => app).handler({ isPastDue: false } as Timer, testInvocation('complianceSweep', []));
    return app;
  }

  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    env.emulator.state.addResourceGroup(SUB_A, 'rg-busy');
    // 3,850 assignments in the subscription (the app's Owner among them): 150 left, under the default reserve of 200.
    const scope = `/subscriptions/${SUB_A}/resourceGroups/rg-busy`;
    for (let i = 0; i < 3000; i++)
      env.emulator.state.grant({ principalId: heavy, roleDefinitionGuid: ROLE.reader, scope: `${scope}/x${i}` });
    for (let i = 0; i < 849; i++) env.emulator.state.grant({ principalId: randomUUID(), roleDefinitionGuid: ROLE.reader, scope });
    assert.equal(env.emulator.state.roleAssignments.size, 3850);
  });

  it('fewer than the reserve left: the new grant is blocked with RoleAssignmentBudget and the top consumers; nothing is written', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-busy',
      type: SEED_TYPES.webApp,
      name: 'web-late',
    });
    const app = await sweptApp();
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
    const blocker = d.outcome?.blockers[0];
    assert.equal(blocker.code, 'RoleAssignmentBudget');
    assert.match(blocker.detail, /holds 3850 of its 4000 role assignments; fewer than the reserve of 200 remain/);
    assert.match(blocker.detail, new RegExp(`Top consumers: ${heavy} \\(3000\\)`));
    assert.deepEqual(
      env.emulator.requestsSince(seq, { writesOnly: true }).filter((r) => !/resourcegraph/i.test(r.path)),
      [],
      'no identity, no role assignment',
    );
    assert.ok(
      env.emulator.requestsSince(seq).some((r) => /resourcegraph/i.test(r.path) && r.status === 200),
      'counted through Resource Graph',
    );
  });

  it('a smaller reserve (AUTOPILOT_ROLE_ASSIGNMENT_RESERVE) leaves room: the grant is made', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-busy',
      type: SEED_TYPES.webApp,
      name: 'web-room',
    });
    const d = await deliver(await sweptApp({ AUTOPILOT_ROLE_ASSIGNMENT_RESERVE: '100' }), resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.equal(env.emulator.state.roleAssignments.size, 3851);
  });
});
