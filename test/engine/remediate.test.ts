import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnPastHandOffError, WriteStillRunningError } from '../../src/engine/call-budget';
import { handOffTime, type RemediationRequest, Remediator, type RemediatorSettings } from '../../src/engine/remediate';
import { ArmCallError, ResourceGoneError } from '../../src/errors';
import { FakeAzure, fakePacing, READER, rgScope, rules, SUB, webApp } from './fake-ports';

const settings: RemediatorSettings = {
  budgetMs: 10_000,
  dryRun: false,
  authorizationRetryWindowMs: 60_000,
  principalNotFoundBackoff: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
  conflictBackoff: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
};

const request = (resourceId: string, extra: Partial<RemediationRequest> = {}): RemediationRequest => ({
  resourceId,
  correlationId: 'c-1',
  mode: 'apply',
  ...extra,
});

describe('Remediator: the steps of one remediation against fake ports', () => {
  it('an id that is no ARM id fails before any call', async () => {
    const azure = new FakeAzure();
    const outcome = await new Remediator(rules, azure.ports(), settings).remediate(request('not-an-id'));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.errors[0]?.code, 'InvalidResourceId');
    assert.deepEqual(azure.calls, []);
  });

  it('a subscription the rules do not govern is skipped by its id alone: no call', async () => {
    const azure = new FakeAzure();
    const id = webApp('w').id.replace(SUB, '55555555-5555-4555-8555-555555555555');
    const outcome = await new Remediator(rules, azure.ports(), settings).remediate(request(id));
    assert.equal(outcome.status, 'skipped');
    assert.equal(outcome.skipped[0]?.reason, 'subscription-not-governed');
    assert.equal(outcome.resourceType, 'Microsoft.Web/sites');
    assert.deepEqual(azure.calls, []);
  });

  it('a resource that is gone ends `gone` after the one read', async () => {
    const azure = new FakeAzure();
    const outcome = await new Remediator(rules, azure.ports(), settings).remediate(request(webApp('missing').id));
    assert.equal(outcome.status, 'gone');
    assert.deepEqual(azure.calls, [`read ${webApp('missing').id}`]);
  });

  it('apply: writes the identity, then grants the missing role with a description naming its owner', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w1'));
    const outcome = await new Remediator(rules, azure.ports(), settings).remediate(request(app.id));
    assert.equal(outcome.status, 'remediated', JSON.stringify(outcome.errors));
    assert.deepEqual(azure.calls, [
      `read ${app.id}`,
      `writeIdentity ${app.id} SystemAssigned`,
      `createRoleAssignment ${rgScope('rg-a')} ${READER}`,
    ]);
    assert.equal(azure.roleAssignments[0]?.description, `identity-autopilot: rule 'web', profile 'reader', for ${app.id}`);
    assert.deepEqual(
      outcome.actions.map((a) => a.kind),
      ['identity-written', 'role-assigned'],
    );
    assert.equal(outcome.principalId, 'pid-w1');
    // The outcome's plan shows what was observed; the plan itself was not changed.
    assert.equal((outcome.plan!.roleAssignments[0] as { present?: boolean }).present, true);
  });

  it('a second run finds everything held: compliant, one list and no write', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w2'));
    const remediator = new Remediator(rules, azure.ports(), settings);
    await remediator.remediate(request(app.id));
    azure.calls.length = 0;
    const again = await remediator.remediate(request(app.id));
    assert.equal(again.status, 'compliant');
    assert.deepEqual(azure.calls, [`read ${app.id}`, `listRoleAssignments ${SUB} pid-w2`]);
  });

  it('plan mode reads and assesses but never writes; a report-only rule says why', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w3'));
    const reported = azure.add(webApp('r1', 'rg-report'));
    const remediator = new Remediator(rules, azure.ports(), settings);
    const planned = await remediator.remediate(request(app.id, { mode: 'plan' }));
    assert.equal(planned.status, 'planned');
    assert.match(planned.skipped.at(-1)!.detail, /plan mode/);
    const report = await remediator.remediate(request(reported.id));
    assert.match(report.skipped.at(-1)!.detail, /rule 'report' is report-only/);
    assert.ok(
      azure.calls.every((c) => !/^(writeIdentity|createRoleAssignment)/.test(c)),
      azure.calls.join('\n'),
    );
  });

  it('the budget of every port call carries the hand-off time when the trigger can hand off, and none otherwise', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w4'));
    const deliveredAt = Date.now() - 100;
    await new Remediator(rules, azure.ports(), settings).remediate(request(app.id, { handOff: { transientFailures: true }, deliveredAt }));
    assert.ok(azure.budgets.length >= 3);
    for (const b of azure.budgets) assert.equal(b.handOffAt, handOffTime(deliveredAt, settings.budgetMs));
    const plain = new FakeAzure();
    plain.add(webApp('w4'));
    await new Remediator(rules, plain.ports(), settings).remediate(request(app.id));
    for (const b of plain.budgets) assert.equal(b.handOffAt, undefined);
  });

  it('a subscription ARM throttles past the hand-off time is handed off before any call', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w5'));
    const outcome = await new Remediator(rules, azure.ports(fakePacing({ closedForMs: 60_000 })), settings).remediate(
      request(app.id, { handOff: { transientFailures: false } }),
    );
    assert.equal(outcome.status, 'deferred');
    assert.equal(outcome.deferral?.reason, 'throttled');
    assert.equal(outcome.deferral?.retryAfterMs, 60_000);
    assert.deepEqual(azure.calls, []);
  });

  it('writes booked past the hand-off time: deferred with the booking as delay (capped at 20 s), nothing written', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w6'));
    const pacing = fakePacing({ bookWritesMs: 45_000 });
    const outcome = await new Remediator(rules, azure.ports(pacing), settings).remediate(
      request(app.id, { handOff: { transientFailures: false } }),
    );
    assert.equal(outcome.status, 'deferred');
    assert.equal(outcome.deferral?.retryAfterMs, 20_000);
    assert.deepEqual(pacing.booked, [2], 'the identity write and one role assignment');
    assert.deepEqual(azure.calls, [`read ${app.id}`]);
  });

  it('a port that will not send a call before the hand-off time: the engine hands off with the turn as delay', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w7'));
    azure.faults.set('writeIdentity', () => {
      throw new TurnPastHandOffError(7000);
    });
    const outcome = await new Remediator(rules, azure.ports(fakePacing()), settings).remediate(
      request(app.id, { handOff: { transientFailures: false } }),
    );
    assert.equal(outcome.status, 'deferred');
    assert.equal(outcome.deferral?.reason, 'throttled');
    assert.equal(outcome.deferral?.retryAfterMs, 7000);
  });

  it('without a hand-off policy the same refusal fails the remediation', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w8'));
    azure.faults.set('writeIdentity', () => {
      throw new ArmCallError(
        'AuthorizationFailed',
        "does not have authorization to perform action 'Microsoft.Web/sites/write' over scope '/x'",
        403,
        false,
        { permission: { action: 'Microsoft.Web/sites/write', scope: '/x', linked: false } },
      );
    });
    const outcome = await new Remediator(rules, azure.ports(), settings).remediate(request(app.id));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.errors[0]!.message, /may not perform 'Microsoft.Web\/sites\/write' on '\/x'/);
  });

  it('a write still running at the hand-off: deferred with the operation to poll; the next delivery polls it and never writes again', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w9'));
    azure.faults.set('writeIdentity', () => {
      throw new WriteStillRunningError({ style: 'async-operation', url: 'https://management.azure.com/op/1' }, 5000);
    });
    const remediator = new Remediator(rules, azure.ports(), settings);
    const first = await remediator.remediate(request(app.id, { handOff: { transientFailures: false } }));
    assert.equal(first.deferral?.reason, 'operation-running');
    const resume = first.deferral!.resume;
    assert.equal(resume.operation?.monitor.url, 'https://management.azure.com/op/1');
    assert.equal(resume.principalIsNew, true, 'a system-assigned identity of our own write holds nothing yet');
    azure.faults.clear();
    azure.resources.get(app.id.toLowerCase())!.identity = { type: 'SystemAssigned', principalId: 'pid-w9', userAssigned: [] };
    azure.calls.length = 0;
    const second = await remediator.remediate(request(app.id, { handOff: { transientFailures: false }, resume }));
    assert.equal(second.status, 'remediated', JSON.stringify(second.errors));
    assert.deepEqual(azure.calls, [`resumeWrite ${app.id}`, `read ${app.id}`, `createRoleAssignment ${rgScope('rg-a')} ${READER}`]);
    assert.deepEqual(second.actions[0], { kind: 'identity-written', from: 'None', to: 'SystemAssigned', principalId: 'pid-w9' });
    assert.equal(second.identityBefore, 'None');
  });

  it("a busy resource is deferred for its type's wait before any write; hand-offs are bounded", async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w10', 'rg-a', undefined, { provisioningState: 'Updating', busyRetryMs: 30_000 }));
    const remediator = new Remediator(rules, azure.ports(), { ...settings, maxHandOffs: 2 });
    const first = await remediator.remediate(request(app.id, { handOff: { transientFailures: false } }));
    assert.equal(first.deferral?.reason, 'resource-busy');
    assert.equal(first.deferral?.retryAfterMs, 30_000);
    const third = await remediator.remediate(
      request(app.id, { handOff: { transientFailures: false }, resume: { attempt: 2, actions: [], principalIsNew: false } }),
    );
    assert.equal(third.status, 'failed');
    assert.equal(third.errors[0]?.code, 'HandOffLimitReached');
    assert.ok(azure.calls.every((c) => !c.startsWith('writeIdentity')));
  });

  it('a resource deleted between the read and the write ends `gone`, not failed', async () => {
    const azure = new FakeAzure();
    const app = azure.add(webApp('w11'));
    azure.faults.set('writeIdentity', () => {
      throw new ResourceGoneError(app.id);
    });
    const outcome = await new Remediator(rules, azure.ports(), settings).remediate(
      request(app.id, { handOff: { transientFailures: true } }),
    );
    assert.equal(outcome.status, 'gone');
    assert.equal(outcome.skipped.at(-1)?.reason, 'resource-gone');
  });
});
