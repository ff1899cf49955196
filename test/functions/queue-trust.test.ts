import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { QueueServiceClient } from '@azure/storage-queue';
import type { Autopilot } from '../../src/app/composition';
import { triggerNamed } from '../../src/functions/triggers';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { beginOperation } from '../../tools/arm-emulator/handlers/operations';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, type CapturedLog, deliver, grantAppOwner, rulesFor, testInvocation } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { hostJsonQueueSettings, runQueueHost } from '../support/queue-host';
import { RecordingQueue } from '../support/recording-queue';
import { TRIGGER_RULES } from './rules.fixture';

/**
 * Whoever can write to the remediation queue may delay work, nothing more (issue 23, item 5): the
 * messages below are what such an attacker can send, through the real queue trigger, with the queue
 * and the ledger in Azurite. A hand-off's state lives in the ledger's table; a message only names it.
 */
const env = useEmulator({ lro: { timeFactor: 1 / 100, retryAfterSeconds: 1 } });
const storage = useAzurite();
const host = { ...hostJsonQueueSettings(), visibilityTimeoutSeconds: 0 };

function appWithQueue(
  queueName: string,
  options: { authorizationRetryMinutes?: string; maxHandOffs?: number; recording?: RecordingQueue } = {},
) {
  return buildApp(
    env,
    rulesFor(TRIGGER_RULES),
    options.maxHandOffs ? { maxHandOffs: options.maxHandOffs } : {},
    {
      AzureWebJobsStorage: storage.azurite.connectionString,
      AUTOPILOT_REMEDIATION_QUEUE: queueName,
      AUTOPILOT_LEDGER_TABLE: `ledger${queueName.replace(/[^a-z0-9]/g, '')}`,
      ...(options.authorizationRetryMinutes ? { AUTOPILOT_AUTHORIZATION_RETRY_MINUTES: options.authorizationRetryMinutes } : {}),
    },
    options.recording ? { sweep: { queue: options.recording } } : {},
  );
}

function queueOf(app: Autopilot) {
  const service = QueueServiceClient.fromConnectionString(storage.azurite.connectionString);
  return {
    queue: service.getQueueClient(app.settings.sweep.queueName),
    poison: service.getQueueClient(`${app.settings.sweep.queueName}-poison`),
  };
}

async function send(app: Autopilot, ...messages: object[]) {
  const { queue } = queueOf(app);
  await queue.createIfNotExists();
  for (const m of messages) await queue.sendMessage(JSON.stringify(m));
}

async function drain(app: Autopilot, timeoutMs = 30_000) {
  const { queue, poison } = queueOf(app);
  return runQueueHost(queue, poison, triggerNamed('storageQueue', 'remediationQueue', () => app).handler, host, { timeoutMs });
}

const site = (resourceGroup: string, name: string) =>
  seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup, type: SEED_TYPES.webApp, name });
const message = (resourceId: string, extra: object = {}) => ({
  version: 1,
  resourceId,
  correlationId: 'c-forged',
  sweepId: '',
  rule: '',
  problems: [],
  ...extra,
});
const outcomesOf = (run: Awaited<ReturnType<typeof drain>>) =>
  run.logs.filter((l) => l.record.event === 'remediation.outcome').map((l) => l.record);

describe('queue messages are not trusted: a forged one can only ask for a fresh look', () => {
  afterEach(() => {
    for (const a of env.emulator.state.assignmentsFor(env.emulator.appPrincipal.id))
      env.emulator.state.roleAssignments.delete(a.id.toLowerCase());
  });

  it("a message for the attacker's resource naming a victim remediation's id (or the victim's stored hand-off) leaves the victim's ledger row as it was", async () => {
    grantAppOwner(env.emulator);
    const app = appWithQueue('trust-victim');
    const victim = site('rg-trust-victim', 'web-victim');
    const attacker = site('rg-trust-attacker', 'web-attacker');
    const d = await deliver(app, resourceWriteEvent({ resourceId: victim }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const victimId = d.outcome!.remediationId;
    const victimRow = await app.ledger.byRequestId(victimId);
    assert.equal(victimRow?.resourceId.toLowerCase(), victim.toLowerCase());
    // An earlier version's hand-off fields, naming the victim's remediation.
    await send(
      app,
      message(attacker, {
        remediationId: victimId,
        startedAt: victimRow!.startedAt,
        resume: { attempt: 1, actions: [], principalIsNew: false },
      }),
    );
    const run = await drain(app);
    assert.equal(run.poisoned.length, 0);
    assert.deepEqual(await app.ledger.byRequestId(victimId), victimRow, "the victim's row is untouched");
    // A hand-off of the victim's, as the app stored it (the attacker read its id off the queue).
    const victimHandOff = await app.ledger.handOffs.save(
      {
        remediationId: victimId,
        resourceId: victim,
        correlationId: 'c',
        startedAt: victimRow!.startedAt,
        resume: { attempt: 1, actions: [], principalIsNew: false },
      },
      60_000,
    );
    await send(app, message(attacker, { handOff: victimHandOff }));
    const second = await drain(app);
    assert.deepEqual(await app.ledger.byRequestId(victimId), victimRow, "the victim's row is untouched");
    assert.deepEqual(await app.ledger.byResourceId(victim), [victimRow], 'and the only one of the victim resource');
    const attackerRows = await app.ledger.byResourceId(attacker);
    assert.equal(attackerRows.length, 2, 'each message was one fresh look at its own resource');
    assert.ok(attackerRows.every((r) => r.requestId !== victimId && r.resourceId.toLowerCase() === attacker.toLowerCase()));
    const rejected = second.logs.find((l) => l.record.event === 'queue.hand-off.rejected')?.record;
    assert.equal(rejected?.reason, 'other-resource', JSON.stringify(rejected));
    const check = await app.ledger.handOffs.check(victimHandOff, victim, Date.now());
    assert.equal(check.kind, 'verified', "the victim's hand-off is still there for the victim's own message");
  });

  it('forged resume.actions are never recorded as grants the app made', async () => {
    grantAppOwner(env.emulator);
    const app = appWithQueue('trust-actions');
    const id = site('rg-trust-actions', 'web-actions');
    const forged = {
      kind: 'role-assigned',
      scope: `/subscriptions/${SUB_A}`,
      roleDefinitionId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.owner}`,
      role: 'Owner',
      assignmentId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-0000000f0e9d`,
    };
    await send(app, message(id, { remediationId: 'forged-actions', resume: { attempt: 1, actions: [forged], principalIsNew: false } }));
    const run = await drain(app);
    const [outcome] = outcomesOf(run);
    assert.equal(outcome?.status, 'remediated', JSON.stringify(outcome));
    const rows = await app.ledger.byResourceId(id);
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.requestId, 'forged-actions');
    const granted = rows[0]!.actions.filter((a) => a.kind === 'role-assigned') as unknown as Array<{ assignmentId: string }>;
    assert.ok(granted.length > 0);
    assert.ok(
      granted.every((a) => env.emulator.state.roleAssignments.has(a.assignmentId.toLowerCase())),
      `every recorded grant exists in ARM: ${JSON.stringify(granted)}`,
    );
    assert.ok(!JSON.stringify(rows).includes('0000000f0e9d'), 'the forged grant is nowhere in the ledger');
  });

  it('forged attempt and authorizationFailingSince do not stretch the hand-off bounds: the failed remediation stays failed, a fresh look has its own window', async () => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.reader,
      scope: `/subscriptions/${SUB_A}/resourceGroups/rg-trust-bounds`,
    });
    // A 3-second authorization window.
    const app = appWithQueue('trust-bounds', { authorizationRetryMinutes: '0.05' });
    const id = site('rg-trust-bounds', 'web-bounds');
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.deferral?.reason, 'authorization-propagating', JSON.stringify(d.outcome));
    await drain(app);
    const remediationId = d.outcome!.remediationId;
    const failed = await app.ledger.byRequestId(remediationId);
    assert.equal(failed?.status, 'failed');
    // The attacker resets the count and moves the window's start a day ahead.
    const forgedAt = Date.now();
    const resume = {
      attempt: 1,
      actions: [],
      principalIsNew: false,
      authorizationFailingSince: new Date(forgedAt + 86_400_000).toISOString(),
    };
    await send(app, message(id, { remediationId, startedAt: failed!.startedAt, resume }));
    const run = await drain(app, 20_000);
    assert.deepEqual(await app.ledger.byRequestId(remediationId), failed, 'the failed remediation stays failed');
    const outcomes = outcomesOf(run);
    assert.ok(outcomes.length > 0 && outcomes.every((o) => o.remediationId !== remediationId));
    for (const o of outcomes.filter((x) => x.status === 'deferred')) {
      const until = Date.parse(/retried until (\S+)/.exec(o.deferral.detail)![1]!);
      assert.ok(until <= Date.now() && until >= forgedAt, `the fresh look's window starts at its own first 403 (${o.deferral.detail})`);
    }
    assert.equal(outcomes.at(-1)?.status, 'failed', 'and ends within it');
    assert.equal((await queueOf(app).queue.getProperties()).approximateMessagesCount, 0, 'nothing left looping on the queue');
  });

  it('a hand-off message replayed after it was carried on starts a fresh look, never the old remediation with its old count', async () => {
    grantAppOwner(env.emulator);
    const recording = new RecordingQueue(storage.azurite.connectionString, 'trust-replay');
    const app = appWithQueue('trust-replay', { maxHandOffs: 1, recording });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-trust-replay',
      type: SEED_TYPES.containerApp,
      name: 'ca-trust-replay',
    });
    beginOperation(env.emulator.state, id, 10 * 60_000, 'InProgress');
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.deferral?.reason, 'resource-busy');
    const [handOff] = recording.sent;
    const { queue } = queueOf(app);
    await queue.clearMessages();
    // The app's own message, delivered: one hand-off allowed, so the remediation fails here.
    await send(app, handOff!);
    const first = outcomesOf(await drain(app));
    assert.equal(first[0]?.errors[0]?.code, 'HandOffLimitReached', JSON.stringify(first));
    const failed = await app.ledger.byRequestId(d.outcome!.remediationId);
    // Replayed (the attacker copied it off the queue): its stored state was consumed.
    await queue.clearMessages();
    const logs: CapturedLog[] = [];
    await triggerNamed('storageQueue', 'remediationQueue', () => app).handler(
      handOff,
      testInvocation('remediationQueue', logs, { triggerMetadata: { id: 'replayed', dequeueCount: 1 } }),
    );
    assert.equal(logs.find((l) => l.record.event === 'queue.hand-off.rejected')?.record.reason, 'unknown');
    const [fresh] = logs.filter((l) => l.record.event === 'remediation.outcome').map((l) => l.record);
    assert.notEqual(fresh?.remediationId, d.outcome!.remediationId, 'a new remediation, not the old one resumed');
    assert.equal(fresh?.status, 'deferred', 'a fresh look at a busy resource waits again, with its own count');
    assert.deepEqual(await app.ledger.byRequestId(d.outcome!.remediationId), failed);
    await queue.clearMessages();
  });

  it('times a message carries are clamped to its read: a future start or event time cannot make a negative duration or a later window', async () => {
    grantAppOwner(env.emulator);
    const app = appWithQueue('trust-times');
    const legacy = site('rg-trust-times', 'web-times-message');
    const stored = site('rg-trust-times', 'web-times-stored');
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const clamped = async (id: string, send: () => Promise<void>) => {
      const before = Date.now();
      await send();
      const [outcome] = outcomesOf(await drain(app));
      const after = Date.now();
      assert.equal(outcome?.status, 'remediated', JSON.stringify(outcome));
      assert.ok(outcome.durationMs >= 0, `${outcome.durationMs} ms`);
      const [row] = await app.ledger.byResourceId(id);
      const started = Date.parse(row!.startedAt);
      assert.ok(started >= before - 1000 && started <= after, `started at the read, not in the future (${row!.startedAt})`);
      assert.ok(Date.parse(row!.finishedAt) <= after && row!.durationMs >= 0, JSON.stringify(row));
    };
    // An earlier version's message fields.
    await clamped(legacy, () => send(app, message(legacy, { startedAt: future, eventTime: future })));
    // A stored hand-off with future times (another instance's clock ahead) is clamped too.
    await clamped(stored, async () => {
      const storedId = await app.ledger.handOffs.save(
        {
          remediationId: 'a1b2c3d4-0000-4000-8000-00000000e501',
          resourceId: stored,
          correlationId: 'c',
          startedAt: future,
          eventTime: future,
          resume: { attempt: 1, actions: [], principalIsNew: false, authorizationFailingSince: future },
        },
        60_000,
      );
      await send(app, message(stored, { handOff: storedId }));
    });
  });
});
