import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Autopilot } from '../../src/app/composition';
import { runSweep } from '../../src/sweep';
import { ROLE_ASSIGNMENT_COUNT_QUERY } from '../../src/sweep/role-assignment-budget';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, SUB_B, takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';
import { rgReaderRules } from './rules.fixture';

/** Not in the rules and not under the governed group: under the tenant root group. */
const SUB_C = '33333333-3333-4333-8333-333333333333';
/** Starts under the nested group, is moved out during a test. */
const SUB_D = '44444444-4444-4444-8444-444444444444';
const env = useEmulator({ subscriptions: [SUB_A, SUB_B, SUB_C, SUB_D] });

// The rules name only the management group: SUB_A sits directly in it, SUB_B and SUB_D in a nested group.
const MG_RULES = rgReaderRules(
  `
  - name: workloads
    identity:
      kind: SystemAssigned
    profiles: [rg-reader]
`,
  '  managementGroups: [mg-landing-zones]',
);
/** Short enough for a test to outwait; the main app's cache outlives the whole file (60 s) even on a loaded machine. */
const SHORT_TTL_MS = 300;

function descendantsCalls(since: number): number {
  return env.emulator.requestsSince(since).filter((r) => /managementGroups\/[^/]+\/descendants$/i.test(r.path)).length;
}

describe('management groups in scope: resolved through ARM, honoured by the event path, the HTTP path and the sweep', () => {
  let app: Autopilot;
  before(() => {
    const state = env.emulator.state;
    state.addManagementGroup('mg-landing-zones');
    state.addManagementGroup('mg-corp', 'mg-landing-zones', 'Corp');
    state.moveSubscription(SUB_A, 'mg-landing-zones');
    state.moveSubscription(SUB_B, 'mg-corp');
    state.moveSubscription(SUB_D, 'mg-corp');
    // Owner on every subscription: only governance decides what is touched.
    for (const s of [SUB_A, SUB_B, SUB_C, SUB_D]) grantAppOwner(env.emulator, s);
    // Least privilege for the lookup: read and descendants/read on the group (Management Group Reader lacks the latter).
    const role = state.addCustomRole({
      roleName: 'autopilot management group reader',
      actions: ['Microsoft.Management/managementGroups/read', 'Microsoft.Management/managementGroups/descendants/read'],
    });
    state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: role.guid,
      scope: '/providers/Microsoft.Management/managementGroups/mg-landing-zones',
    });
    env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 });
    app = buildApp(env, rulesFor(MG_RULES), { managementGroupTtlMs: 60_000 }, EASY_AUTH_ON);
  });

  it('event path: a workload in a subscription of a nested group is remediated; the lookup is cached', async () => {
    const seq = env.emulator.lastSeq;
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-mg',
      type: SEED_TYPES.webApp,
      name: 'web-nested',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId;
    assert.deepEqual(
      env.emulator.state.assignmentsFor(principal).map((a) => [a.scope.toLowerCase(), a.roleDefinitionGuid]),
      [[`/subscriptions/${SUB_B}/resourcegroups/rg-mg`, ROLE.reader]],
    );
    // A second event within the TTL asks ARM nothing about the group.
    const again = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-mg',
      type: SEED_TYPES.webApp,
      name: 'web-direct',
    });
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: again }))).outcome?.status, 'remediated');
    assert.equal(descendantsCalls(seq), 1);
  });

  it('event path: a subscription outside the group is skipped with no write', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_C,
      resourceGroup: 'rg-mg',
      type: SEED_TYPES.webApp,
      name: 'web-outside',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined);
    const ignored = d.logs.find((l) => l.record.event === 'event.ignored' || l.record.event === 'remediation.outcome')!.record;
    assert.match(JSON.stringify(ignored), /subscription-not-governed/);
    assert.match(JSON.stringify(ignored), /nor under scope.managementGroups/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });

  it('a subscription moved out of the group stops being governed once the cached resolution expires', async () => {
    const shortLived = buildApp(env, rulesFor(MG_RULES), { managementGroupTtlMs: SHORT_TTL_MS });
    const before = seedResource(env.emulator.state, {
      subscriptionId: SUB_D,
      resourceGroup: 'rg-mg',
      type: SEED_TYPES.webApp,
      name: 'web-before-move',
    });
    assert.equal((await deliver(shortLived, resourceWriteEvent({ resourceId: before }))).outcome?.status, 'remediated');
    const after = seedResource(env.emulator.state, {
      subscriptionId: SUB_D,
      resourceGroup: 'rg-mg',
      type: SEED_TYPES.webApp,
      name: 'web-after-move',
    });
    env.emulator.state.moveSubscription(SUB_D, env.emulator.state.tenantId);
    try {
      await sleep(SHORT_TTL_MS + 50);
      const d = await deliver(shortLived, resourceWriteEvent({ resourceId: after }));
      assert.equal(d.error, undefined);
      assert.match(JSON.stringify(d.logs.map((l) => l.record)), /subscription-not-governed/);
      assert.equal(env.emulator.state.resource(after)!.body.identity, undefined);
    } finally {
      env.emulator.state.moveSubscription(SUB_D, 'mg-corp');
    }
  });

  it('HTTP path: apply works under the group and is refused outside it', async () => {
    const inside = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-http',
      type: SEED_TYPES.containerApp,
      name: 'ca-inside',
    });
    const outside = seedResource(env.emulator.state, {
      subscriptionId: SUB_C,
      resourceGroup: 'rg-http',
      type: SEED_TYPES.containerApp,
      name: 'ca-outside',
    });
    const post = (resourceId: string) =>
      call(app, 'remediationsPost', {
        method: 'POST',
        url: 'http://localhost/api/remediations',
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify({ resourceId, mode: 'apply' }) },
      });
    const ok = await post(inside);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.outcome.status, 'remediated');
    const refused = await post(outside);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'OutsideGovernedScope');
    assert.equal(env.emulator.state.resource(outside)!.body.identity, undefined);
  });

  it('sweep: Resource Graph is queried with the management-group scope and finds drift only under the group', async () => {
    const inside = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-sweep',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-inside',
    });
    const outside = seedResource(env.emulator.state, {
      subscriptionId: SUB_C,
      resourceGroup: 'rg-sweep',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-outside',
    });
    const seq = env.emulator.lastSeq;
    const report = await runSweep(app, { reportOnly: true });
    const allGraphCalls = env.emulator.requestsSince(seq).filter((r) => /resourcegraph/i.test(r.path));
    // The role-assignment budget is per subscription (Azure's limit is), so its counts alone name one subscription each.
    const isCount = (c: (typeof allGraphCalls)[number]) => (c.body as { query?: string }).query === ROLE_ASSIGNMENT_COUNT_QUERY;
    assert.deepEqual(
      allGraphCalls
        .filter(isCount)
        .flatMap((c) => (c.body as { subscriptions: string[] }).subscriptions)
        .sort(),
      [SUB_A, SUB_B, SUB_D].sort(),
    );
    const graphCalls = allGraphCalls.filter((c) => !isCount(c));
    assert.ok(graphCalls.length > 0);
    for (const c of graphCalls) {
      assert.deepEqual((c.body as { managementGroups?: string[] }).managementGroups, ['mg-landing-zones']);
      assert.equal((c.body as { subscriptions?: string[] }).subscriptions, undefined, 'never both scopes in one query');
    }
    const found = report.findings.map((f) => f.resourceId.toLowerCase());
    assert.ok(found.includes(inside.toLowerCase()), JSON.stringify(report.totals));
    assert.ok(!found.includes(outside.toLowerCase()));
    assert.deepEqual([...report.subscriptions].sort(), [SUB_A, SUB_B, SUB_D].sort());
  });

  it('without read on the group, the lookup fails as ARM refuses it, and nothing is written', async () => {
    const noRead = buildApp(env, rulesFor(MG_RULES.replace('mg-landing-zones', 'mg-corp')));
    env.emulator.state.addManagementGroup('mg-hidden');
    const hidden = buildApp(env, rulesFor(MG_RULES.replace('mg-landing-zones', 'mg-hidden')));
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-denied',
      type: SEED_TYPES.webApp,
      name: 'web-denied',
    });
    // mg-corp is below the granted group: the grant is inherited, so this one works.
    assert.equal((await deliver(noRead, resourceWriteEvent({ resourceId: id }))).outcome?.status, 'remediated');
    const other = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-denied',
      type: SEED_TYPES.webApp,
      name: 'web-denied-2',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(hidden, resourceWriteEvent({ resourceId: other }));
    assert.equal(d.outcome?.status, 'failed');
    assert.match(JSON.stringify(d.outcome), /AuthorizationFailed/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
    await takeSpecViolations(env.emulator);
  });
});
