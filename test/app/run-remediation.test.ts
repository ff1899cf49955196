import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RemediationPorts, type RemediationRun, runRemediation } from '../../src/app/run-remediation';
import type { RemediationRequest } from '../../src/engine/remediate';
import type { RemediationOutcome } from '../../src/engine/types';
import type { ClaimStore } from '../../src/ledger/claims';
import { MemoryLedger } from '../../src/ledger/memory-ledger';
import { createLogger } from '../../src/logging/logger';
import type { OutcomeContext } from '../../src/outcomes/recorder';
import type { RemediationMessage, SendOptions } from '../../src/sweep/remediation-queue';

/**
 * The one remediation sequence over fakes: an in-memory claim store, a queue and a recorder that keep
 * what they were given, a remediator that answers with a set outcome, and a logger that keeps its lines.
 * `steps` records the order the ports were called in.
 */

const RESOURCE = '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Web/sites/web-1';

function outcomeOf(overrides: Partial<RemediationOutcome> = {}): RemediationOutcome {
  return {
    correlationId: 'corr-1',
    resourceId: RESOURCE,
    status: 'remediated',
    actions: [],
    skipped: [],
    errors: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1200,
    ...overrides,
  };
}

const DEFERRED = outcomeOf({
  status: 'deferred',
  deferral: {
    reason: 'operation-running',
    detail: 'the write is still running',
    retryAfterMs: 15_000,
    resume: { attempt: 1, actions: [], principalIsNew: false },
  },
});
const TRANSIENT = outcomeOf({ status: 'failed', errors: [{ code: 'ServiceUnavailable', message: '503', transient: true }] });

interface Fakes {
  ports: RemediationPorts;
  ledger: MemoryLedger;
  steps: string[];
  requests: RemediationRequest[];
  sent: Array<{ message: RemediationMessage; options?: SendOptions }>;
  recorded: Array<{ outcome: RemediationOutcome; context: OutcomeContext }>;
  lines: Array<Record<string, unknown>>;
  run: (overrides?: Partial<RemediationRun<string>>) => RemediationRun<string>;
}

function fakes(
  answer: RemediationOutcome | (() => Promise<RemediationOutcome>),
  options: { queue?: boolean; recordFails?: boolean; claims?: ClaimStore } = {},
): Fakes {
  const ledger = new MemoryLedger();
  const steps: string[] = [];
  const requests: RemediationRequest[] = [];
  const sent: Fakes['sent'] = [];
  const recorded: Fakes['recorded'] = [];
  const lines: Fakes['lines'] = [];
  const ports: RemediationPorts = {
    remediator: {
      async remediate(request) {
        steps.push('remediate');
        requests.push(request);
        return typeof answer === 'function' ? answer() : answer;
      },
    },
    claims: options.claims ?? ledger,
    queue:
      options.queue === false
        ? undefined
        : {
            name: 'remediations',
            send: async (message, sendOptions) => {
              steps.push('send');
              sent.push({ message, options: sendOptions });
            },
          },
    handOffs: ledger.handOffs,
    outcomes: {
      async record(outcome, context) {
        steps.push('record');
        if (options.recordFails) throw new Error('ledger down');
        recorded.push({ outcome, context });
      },
    },
    budgetMs: 5000,
  };
  const log = createLogger((_level, line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    steps.push(`log:${String(record.event)}`);
    lines.push(record);
  });
  const run = (overrides: Partial<RemediationRun<string>> = {}): RemediationRun<string> => ({
    resourceId: RESOURCE,
    remediationId: 'rem-1',
    correlationId: 'corr-1',
    mode: 'apply',
    trigger: 'eventGrid',
    claim: { kind: 'event', write: { eventId: 'evt-1', correlationId: 'corr-1' } },
    handOff: { transientFailures: true, origin: { eventId: 'evt-1', eventTime: '2026-01-01T00:00:00.000Z' } },
    deliveredAt: 1_700_000_000_000,
    record: { eventId: 'evt-1', eventTime: '2026-01-01T00:00:00.000Z' },
    log,
    logFields: { remediationId: 'rem-1' },
    ...overrides,
  });
  return { ports, ledger, steps, requests, sent, recorded, lines, run };
}

/** True when the resource's claim is free: a fresh holder gets it (and lets it go again). */
async function claimIsFree(ledger: MemoryLedger): Promise<boolean> {
  const claim = await ledger.claim(RESOURCE, 'probe', 5000);
  if (claim.held) await ledger.release(claim.token);
  return claim.held;
}

const queueMessage = (overrides: Partial<RemediationMessage> = {}): RemediationMessage => ({
  version: 1,
  resourceId: RESOURCE,
  correlationId: 'corr-1',
  sweepId: 'sweep-1',
  rule: 'web',
  problems: [],
  ...overrides,
});

describe('runRemediation: claim, remediate, hand off, log, record, release', () => {
  it('runs the sequence in order under a claim, and ends the claim', async () => {
    const f = fakes(outcomeOf());
    const result = await runRemediation(f.ports, f.run());
    assert.deepEqual(result, { kind: 'finished', outcome: outcomeOf(), redeliver: false });
    assert.deepEqual(f.steps, ['remediate', 'log:remediation.outcome', 'record']);
    assert.deepEqual(f.requests, [
      {
        resourceId: RESOURCE,
        correlationId: 'corr-1',
        mode: 'apply',
        requestedProfiles: undefined,
        handOff: { transientFailures: true },
        resume: undefined,
        startedAt: undefined,
        deliveredAt: 1_700_000_000_000,
      },
    ]);
    assert.deepEqual(f.recorded[0]!.context, {
      trigger: 'eventGrid',
      requestId: 'rem-1',
      eventId: 'evt-1',
      eventTime: '2026-01-01T00:00:00.000Z',
    });
    const line = f.lines[0]!;
    assert.equal(line.level, 'info');
    assert.equal(line.status, 'remediated');
    assert.equal(line.resourceId, RESOURCE);
    assert.equal(line.remediationId, 'rem-1', 'the entry point’s own fields are on the line');
    assert.equal(await claimIsFree(f.ledger), true, 'the claim ended');
  });

  it('hands a deferred outcome to the queue before it logs or records it, and keeps the claim for the queued part', async () => {
    const f = fakes(DEFERRED);
    const result = await runRemediation(f.ports, f.run());
    assert.equal(result.kind, 'finished');
    assert.deepEqual(f.steps, ['remediate', 'send', 'log:remediation.outcome', 'record']);
    const [{ message, options }] = f.sent as [Fakes['sent'][number]];
    assert.equal(options?.visibilityDelaySeconds, 15);
    // The message names the hand-off; its state is in the ledger's table, bound to the resource.
    assert.deepEqual(Object.keys(message).sort(), ['correlationId', 'handOff', 'problems', 'resourceId', 'rule', 'sweepId', 'version']);
    const check = await f.ledger.handOffs.check(message.handOff!, RESOURCE, Date.now());
    assert.equal(check.kind, 'verified');
    const stored = check.kind === 'verified' ? check.handOff : undefined;
    assert.equal(stored?.remediationId, 'rem-1');
    assert.equal(stored?.eventId, 'evt-1');
    assert.equal(stored?.eventTime, '2026-01-01T00:00:00.000Z');
    assert.equal(stored?.startedAt, DEFERRED.startedAt);
    assert.deepEqual(stored?.resume, DEFERRED.deferral!.resume);
    assert.equal(
      (await f.ledger.handOffs.check(message.handOff!, `${RESOURCE}-other`, Date.now())).kind,
      'rejected',
      'bound to its resource',
    );
    // The claim is held until the queued part has run: a second event collapses into it.
    const second = await runRemediation(f.ports, f.run({ remediationId: 'rem-2' }));
    assert.equal(second.kind, 'collapsed');
    assert.ok(second.kind === 'collapsed' && second.holder === 'rem-1' && second.queuedUntil, 'queued, and says until when');
  });

  it('says a transient failure must be delivered again, and ends the claim without a follow-up', async () => {
    const f = fakes(TRANSIENT);
    const result = await runRemediation(f.ports, f.run());
    assert.deepEqual(result, { kind: 'finished', outcome: TRANSIENT, redeliver: true });
    assert.equal(f.lines[0]!.level, 'warn');
    assert.equal(f.sent.length, 0);
    assert.equal(await claimIsFree(f.ledger), true);
  });

  it('a duplicate event collapses into the remediation that holds the resource: no call, no record', async () => {
    const f = fakes(outcomeOf());
    const held = await f.ledger.claim(RESOURCE, 'rem-running', 60_000);
    assert.ok(held.held);
    const result = await runRemediation(f.ports, f.run());
    assert.deepEqual(result, { kind: 'collapsed', holder: 'rem-running', queuedUntil: undefined });
    assert.deepEqual(f.steps, []);
    // The holder is told of this write, and puts a follow-up on the queue when it ends.
    assert.deepEqual({ ...(await f.ledger.release(held.token)) }, { eventId: 'evt-1', eventTime: undefined, correlationId: 'corr-1' });
  });

  it('a write marked while the remediation ran gets a follow-up on the queue once the claim ends', async () => {
    let f: Fakes;
    f = fakes(async () => {
      assert.equal((await f.ledger.claim(RESOURCE, 'other', 5000)).held, false);
      assert.equal(await f.ledger.markChanged(RESOURCE, { eventId: 'evt-later', correlationId: 'corr-later' }), true);
      return outcomeOf();
    });
    await runRemediation(f.ports, f.run());
    assert.deepEqual(f.steps, ['remediate', 'log:remediation.outcome', 'record', 'send', 'log:remediation.follow-up']);
    assert.equal(f.sent[0]!.message.correlationId, 'corr-later');
    const check = await f.ledger.handOffs.check(f.sent[0]!.message.handOff!, RESOURCE, Date.now());
    assert.ok(
      check.kind === 'verified' && check.handOff.eventId === 'evt-later' && check.handOff.resume === undefined,
      'a fresh remediation of that event',
    );
  });

  it('a queued message finding the resource busy goes back on the queue to wait for the holder', async () => {
    const f = fakes(outcomeOf());
    await f.ledger.claim(RESOURCE, 'rem-running', 3000);
    const message = queueMessage({ handOff: '0123456789abcdef0123456789abcdef' });
    const result = await runRemediation(
      f.ports,
      f.run({ remediationId: 'rem-q', trigger: 'queue', claim: { kind: 'queue', message, carriesHandOff: true } }),
    );
    assert.equal(result.kind, 'waiting');
    assert.ok(result.kind === 'waiting' && result.holder === 'rem-running' && result.retryAfterMs >= 1000 && result.retryAfterMs <= 10_000);
    assert.deepEqual(f.steps, ['send']);
    assert.equal(f.sent[0]!.message, message, 'the message itself, unchanged');
    assert.ok(f.sent[0]!.options!.visibilityDelaySeconds! >= 1);
  });

  it('a fresh queued message collapses into a remediation that waits on the queue; one carrying a hand-off waits instead', async () => {
    const f = fakes(outcomeOf());
    const held = await f.ledger.claim(RESOURCE, 'rem-queued', 3000);
    assert.ok(held.held);
    await f.ledger.hold(held.token, new Date(Date.now() + 3000).toISOString(), new Date(Date.now() + 20_000).toISOString());
    const fresh = await runRemediation(
      f.ports,
      f.run({ remediationId: 'rem-q', trigger: 'queue', claim: { kind: 'queue', message: queueMessage(), carriesHandOff: false } }),
    );
    assert.equal(fresh.kind, 'collapsed');
    const resume = { attempt: 1, actions: [], principalIsNew: false };
    const handedOff = await runRemediation(
      f.ports,
      f.run({ remediationId: 'rem-q', trigger: 'queue', resume, claim: { kind: 'queue', message: queueMessage(), carriesHandOff: true } }),
    );
    assert.equal(handedOff.kind, 'waiting');
  });

  it('without a queue nothing is claimed and nothing handed off', async () => {
    const untouchable = new Proxy({} as ClaimStore, { get: () => () => assert.fail('no claim without a queue') });
    const f = fakes(DEFERRED, { queue: false, claims: untouchable });
    const result = await runRemediation(f.ports, f.run());
    assert.equal(result.kind, 'finished');
    assert.equal(f.requests[0]!.handOff, undefined, 'the engine is not offered a hand-off');
    assert.deepEqual(f.steps, ['remediate', 'log:remediation.outcome', 'record']);
  });

  it('a remediation that throws ends the claim and propagates, recording nothing', async () => {
    const f = fakes(async () => {
      throw new Error('ARM unreachable');
    });
    await assert.rejects(runRemediation(f.ports, f.run()), /ARM unreachable/);
    assert.equal(f.recorded.length, 0);
    assert.equal(await claimIsFree(f.ledger), true, 'the redelivery can claim it');
  });

  it('a ledger that cannot record ends the claim and propagates, after the outcome was logged', async () => {
    const f = fakes(outcomeOf(), { recordFails: true });
    await assert.rejects(runRemediation(f.ports, f.run()), /ledger down/);
    assert.deepEqual(f.steps, ['remediate', 'log:remediation.outcome', 'record']);
    assert.equal(await claimIsFree(f.ledger), true);
  });

  it('a queue that cannot take the hand-off propagates before anything says deferred', async () => {
    const f = fakes(DEFERRED);
    f.ports.queue = { name: 'remediations', send: async () => Promise.reject(new Error('queue down')) };
    await assert.rejects(runRemediation(f.ports, f.run()), /queue down/);
    assert.deepEqual(f.steps, ['remediate']);
    assert.equal(await claimIsFree(f.ledger), true);
  });

  it('an outcome the entry point refuses is handed back, neither logged nor recorded', async () => {
    const refused = outcomeOf({ status: 'failed', errors: [{ code: 'UnknownProfile', message: 'no such profile', transient: false }] });
    const f = fakes(refused);
    const result = await runRemediation(
      f.ports,
      f.run({ refuse: (o) => (o.errors[0]?.code === 'UnknownProfile' ? 'refused: profile' : undefined) }),
    );
    assert.deepEqual(result, { kind: 'refused', refusal: 'refused: profile', outcome: refused });
    assert.deepEqual(f.steps, ['remediate']);
    assert.equal(await claimIsFree(f.ledger), true);
  });

  it('a plan (no record policy, no claim, no hand-off) is logged but not recorded, with the requested profiles', async () => {
    const planned = outcomeOf({ status: 'planned' });
    const f = fakes(planned);
    const result = await runRemediation(
      f.ports,
      f.run({
        mode: 'plan',
        claim: undefined,
        handOff: undefined,
        record: undefined,
        requestedProfiles: ['reader'],
        deliveredAt: undefined,
      }),
    );
    assert.equal(result.kind, 'finished');
    assert.deepEqual(f.steps, ['remediate', 'log:remediation.outcome']);
    assert.equal(f.requests[0]!.mode, 'plan');
    assert.equal(f.requests[0]!.handOff, undefined);
    assert.deepEqual(f.requests[0]!.requestedProfiles, ['reader']);
  });
});
