import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runSweep } from '../../src/sweep';
import { grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { useEmulator } from '../support/emulator-fixture';
import { hostJsonQueueSettings } from '../support/queue-host';
import { buildSweepApp, drainRemediationQueue, queuesOf, SUB_A, SUB_B, SWEEP_RULES, seedSite } from './fixture';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const storage = useAzurite();
const hostJson = hostJsonQueueSettings();
// host.json's numbers, with the retry delay shortened so the test runs in seconds.
const host = { ...hostJson, visibilityTimeoutSeconds: 0 };

describe('sweep resilience: poison messages, Resource Graph quota, ARM throttling', () => {
  before(() => {
    grantAppOwner(env.emulator, SUB_A);
    grantAppOwner(env.emulator, SUB_B);
  });

  it('host.json caps queue concurrency and retries (the numbers docs/operations.md explains)', () => {
    assert.deepEqual(
      {
        batchSize: hostJson.batchSize,
        newBatchThreshold: hostJson.newBatchThreshold,
        maxDequeueCount: hostJson.maxDequeueCount,
        visibilityTimeoutSeconds: hostJson.visibilityTimeoutSeconds,
        messageEncoding: hostJson.messageEncoding,
      },
      { batchSize: 8, newBatchThreshold: 4, maxDequeueCount: 5, visibilityTimeoutSeconds: 30, messageEncoding: 'none' },
    );
  });

  it('a message that keeps failing transiently lands in <queue>-poison after maxDequeueCount, with the reason; a malformed one is logged and dropped', async () => {
    env.emulator.resourceGraph.setQuota(undefined);
    const app = buildSweepApp(env, rulesFor(SWEEP_RULES), { azurite: storage.azurite, queueName: 'poison-test', budgetMs: 400 });
    const id = seedSite(env, SUB_A, 'rg-poison', 'web-stuck');
    const fault = env.emulator.faults.add({
      method: 'PATCH',
      path: 'web-stuck',
      action: { kind: 'error', status: 409, code: 'AnotherOperationInProgress' },
    });
    try {
      const report = await runSweep(app, {});
      assert.equal(report.totals.queued, 1);
      const { queue, poison } = queuesOf(app, storage.azurite);
      await queue.sendMessage('{"not":"a remediation"}');
      const run = await drainRemediationQueue(app, storage.azurite, host);
      assert.equal(run.succeeded, 1, 'the malformed message: logged and dropped at once');
      assert.equal(run.poisoned.length, 1);
      const stuck = run.poisoned.find((p) => p.messageText.includes(id))!;
      assert.equal(stuck.dequeueCount, hostJson.maxDequeueCount);
      assert.match(stuck.reason, /transient failure .*DeadlineExceeded/);
      assert.ok(fault.hits >= hostJson.maxDequeueCount, 'every delivery tried the write');
      const malformed = run.logs.filter((l) => l.record.event === 'queue.message.rejected');
      assert.equal(malformed.length, 1, 'rejected once, not retried');
      assert.equal(malformed[0]!.record.code, 'MalformedRemediationMessage');
      const parked = (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
      assert.equal(parked.length, 1);
      assert.equal(JSON.parse(parked.find((t) => t.includes(id))!).resourceId, id);
      assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
      const outcomes = run.logs.filter((l) => l.record.event === 'remediation.outcome');
      assert.equal(outcomes.length, hostJson.maxDequeueCount);
      assert.ok(outcomes.every((o) => o.record.status === 'failed' && o.record.errors[0].transient));
    } finally {
      fault.remove();
      env.emulator.state.deleteResource(id);
    }
  });

  it('Resource Graph quota exhausted during a sweep: the sweep waits for the reset instead of failing', async () => {
    const app = buildSweepApp(env, rulesFor(SWEEP_RULES), { azurite: storage.azurite, queueName: 'quota-test' });
    const id = seedSite(env, SUB_B, 'rg-quota', 'web-quota');
    env.emulator.state.resource(id)!.body.identity = {
      type: 'SystemAssigned',
      principalId: 'e0e0e0e0-1111-4222-8333-444444444444',
      tenantId: env.emulator.state.tenantId,
    };
    env.emulator.resourceGraph.setQuota({ limit: 1, windowMs: 1000 });
    try {
      const started = Date.now();
      const report = await runSweep(app, { reportOnly: true });
      assert.equal(report.totals.scanned, 1);
      assert.deepEqual(report.findings[0]?.problems, ['role-assignments-missing']);
      assert.equal(
        report.resourceGraph.calls,
        3 + 2,
        "the app's own grants, the governed resources, the grants of their principals, then each subscription's role-assignment count",
      );
      // The counts wait for the quota like every other query: none is lost to a 429 (the budget needs them).
      assert.equal(Object.keys(report.roleAssignments ?? {}).length, 2, JSON.stringify(report.roleAssignments));
      assert.ok(report.resourceGraph.quotaWaits >= 1);
      assert.ok(Date.now() - started >= 800);
    } finally {
      env.emulator.resourceGraph.setQuota(undefined);
      env.emulator.state.deleteResource(id);
    }
  });

  it('a tiny ARM write bucket: the remediations pace themselves by its remaining-writes header, every message succeeds, none is poisoned', async () => {
    const app = buildSweepApp(env, rulesFor(SWEEP_RULES), { azurite: storage.azurite, queueName: 'throttle-test' });
    const ids = Array.from({ length: 6 }, (_, i) => seedSite(env, i % 2 ? SUB_A : SUB_B, 'rg-throttle', `web-throttle-${i}`));
    const report = await runSweep(app, {});
    assert.equal(report.totals.queued, 6);
    // A tiny write bucket: 3 tokens, 4 a second (ARM documents 200 + 10/s). Six remediations need 18 writes.
    // The level sits at the gate's floor the whole time: its waits must follow the refill, not hand the
    // remediations off (a wait extrapolated from the instant's rate once handed them off for 20-40 s).
    env.emulator.throttle.enable({ write: { capacity: 3, refillPerSecond: 4 } });
    const throttledBefore = env.emulator.throttle.throttled;
    try {
      const run = await drainRemediationQueue(app, storage.azurite, host, 60_000);
      // The bucket is far smaller than ARM's documented one: the app learns it only from the headers.
      assert.ok(
        env.emulator.throttle.throttled - throttledBefore <= 3,
        `paced by the headers, not by 429s (${env.emulator.throttle.throttled - throttledBefore} 429s)`,
      );
      assert.equal(run.poisoned.length, 0);
      assert.equal(run.succeeded, 6);
      for (const id of ids) {
        const identity = env.emulator.state.resource(id)!.body.identity;
        assert.equal(identity?.type, 'SystemAssigned');
        assert.equal(env.emulator.state.assignmentsFor(identity.principalId).length, 2);
      }
    } finally {
      env.emulator.throttle.disable();
    }
  });
});
