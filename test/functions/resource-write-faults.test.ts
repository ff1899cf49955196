import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator();

describe('Event Grid trigger under faults', () => {
  afterEach(() => {
    env.emulator.faults.clear();
    env.emulator.state.directory.replicationDelayMs = 0;
    env.emulator.throttle.disable();
  });

  it('PrincipalNotFound for 3 s after the identity appears, then success', async () => {
    grantAppOwner(env.emulator);
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    env.emulator.state.directory.replicationDelayMs = 3000;
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-pnf',
      type: SEED_TYPES.webApp,
      name: 'web-pnf',
    });
    const started = Date.now();
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.ok(Date.now() - started >= 2900, 'it waited for replication');
    const rejected = env.emulator.requests.filter((r) => r.errorCode === 'PrincipalNotFound');
    assert.ok(rejected.length >= 2, 'role writes were retried');
    const principal = env.emulator.state.resource(id)!.body.identity.principalId;
    assert.equal(env.emulator.state.assignmentsFor(principal).length, 2);
  });

  it('rides out a 429 storm within a bounded time', async () => {
    grantAppOwner(env.emulator);
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-429',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-storm',
    });
    const storm = env.emulator.faults.add({
      operation: 'write',
      times: 4,
      action: { kind: 'error', status: 429, code: 'TooManyRequests', retryAfterSeconds: 1 },
    });
    const started = Date.now();
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    const elapsed = Date.now() - started;
    assert.equal(storm.hits, 4);
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.ok(elapsed < 25_000, `done within the budget (${elapsed} ms)`);
  });

  it('a transient failure that outlasts the retries throws so Event Grid redelivers, within the budget', async () => {
    grantAppOwner(env.emulator);
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-503',
      type: SEED_TYPES.webApp,
      name: 'web-503',
    });
    env.emulator.faults.add({ method: 'PATCH', action: { kind: 'error', status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 0 } });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.ok(d.error instanceof Error, 'the handler threw');
    assert.equal(d.outcome?.status, 'failed');
    assert.equal(d.outcome?.errors[0].transient, true);
  });

  it('a resource deleted mid-flight ends as "gone", not as an error loop', async () => {
    grantAppOwner(env.emulator);
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-gone',
      type: SEED_TYPES.webApp,
      name: 'web-gone',
    });
    // The GET works; the resource disappears before the PATCH.
    env.emulator.faults.add({ path: 'web-gone', method: 'PATCH', times: 1, action: { kind: 'delete-resource' } });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, 'not redelivered');
    assert.equal(d.outcome?.status, 'gone', JSON.stringify(d.outcome));
  });

  it("the app's own identity lacking rights is a clear AuthorizationFailed, logged and not retried", async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-norights',
      type: SEED_TYPES.webApp,
      name: 'web-norights',
    });
    // Reader only on this resource group (Owner grants from other tests are at the subscription: use another subscription's view).
    const app = buildApp(env, rulesFor(TRIGGER_RULES));
    for (const a of env.emulator.state.assignmentsFor(env.emulator.appPrincipal.id))
      env.emulator.state.roleAssignments.delete(a.id.toLowerCase());
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.reader,
      scope: `/subscriptions/${SUB_A}/resourceGroups/rg-norights`,
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, 'a permanent failure is not redelivered');
    assert.equal(d.outcome?.status, 'failed');
    assert.equal(d.outcome?.errors[0].code, 'AuthorizationFailed');
    assert.equal(d.outcome?.errors[0].transient, false);
    assert.equal(d.logs.find((l) => l.record.event === 'remediation.outcome')?.level, 'error');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });
});
