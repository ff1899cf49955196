import type { InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { queuedRemediation } from '../app/queued-remediation';
import { collapsedReason, RedeliveryRequestedError, type RunResult, remediationPorts, runRemediation } from '../app/run-remediation';
import { isAutopilotError } from '../errors';
import { createLogger, type StructuredLogger } from '../logging/logger';
import { MalformedRemediationMessageError, parseRemediationMessage, type ReadRemediationMessage } from '../sweep/remediation-queue';
import { contextSink } from './resource-write-success';
import { triggerMetadataInt, triggerMetadataTime } from './trigger-metadata';

/**
 * Queue trigger on the remediation queue: one resource per message, found non-compliant by a sweep or
 * handed off by a trigger that could not finish it, fixed by the same engine as events. A handed-off
 * remediation carries on where it stopped (a write still running is polled, never sent again), but
 * only from the state the app stored for it in the ledger's table, which the message names by id:
 * whoever can write the queue can only ask for a resource to be looked at afresh. What still cannot
 * finish goes back on the queue as a new hand-off with a delay matching the wait, under the same
 * remediation id, so the ledger keeps one row for it. Other transient failures throw, so the host
 * makes the message visible again after visibilityTimeout and, after maxDequeueCount attempts, moves
 * it to `<queue>-poison`. A permanent failure is logged and recorded, and the message is done; so is
 * a malformed one, logged and dropped (every retry would fail the same way).
 */
export function createRemediationQueueHandler(getAutopilot: () => Autopilot) {
  return async function remediationQueue(message: unknown, context: InvocationContext): Promise<void> {
    const receivedAt = Date.now();
    const dequeueCount = triggerMetadataInt(context.triggerMetadata?.dequeueCount) ?? 1;
    const log = createLogger(contextSink(context), {
      invocationId: context.invocationId,
      trigger: 'queue',
      messageId: context.triggerMetadata?.id,
      dequeueCount,
    });
    const read = readMessage(message, log);
    if (!read) return;
    const autopilot = getAutopilot();
    const { handOffs } = autopilot.ledger;
    const parsed = read.message;
    const queued = await queuedRemediation(handOffs, parsed, {
      receivedAt,
      insertedAt: triggerMetadataTime(context.triggerMetadata?.insertionTime),
    });
    const scoped = log.child({
      correlationId: queued.correlationId,
      resourceId: parsed.resourceId,
      sweepId: parsed.sweepId,
      remediationId: queued.remediationId,
    });
    if (read.ignored.length > 0)
      scoped.log('warn', 'queue.message.untrusted-fields-ignored', {
        fields: read.ignored,
        detail: 'a hand-off is carried on only from the state the app stored; the resource is looked at afresh',
      });
    if (queued.rejected)
      scoped.log('warn', 'queue.hand-off.rejected', {
        ...queued.rejected,
        detail: `${queued.rejected.detail}; the resource is looked at afresh`,
      });
    const result = await runRemediation(remediationPorts(autopilot), {
      resourceId: parsed.resourceId,
      remediationId: queued.remediationId,
      correlationId: queued.correlationId || context.invocationId,
      mode: 'apply',
      trigger: 'queue',
      // One remediation per resource across every instance: while another runs, this one waits its turn.
      claim: { kind: 'queue', message: parsed, carriesHandOff: queued.resume !== undefined },
      // Other transient failures throw instead: the host's own retries (and poison queue) handle them.
      handOff: { transientFailures: false, origin: queued.origin },
      resume: queued.resume,
      startedAt: queued.startedAt,
      deliveredAt: receivedAt,
      record: { eventId: queued.eventId, eventTime: queued.since },
      log: scoped,
    });
    // Carried on (handed off again under a new id, or finished): a replay of this message starts nothing.
    if (queued.lease && !comesAgain(result)) await handOffs.consume(queued.lease);
    report(result, scoped);
  };
}

/** The message's fields, or undefined when it is malformed: logged and dropped. */
function readMessage(message: unknown, log: StructuredLogger): ReadRemediationMessage | undefined {
  try {
    return parseRemediationMessage(message);
  } catch (e) {
    if (e instanceof MalformedRemediationMessageError || isAutopilotError(e, 'InvalidResourceId')) {
      // Not thrown: every retry would fail the same way, and the poison queue would only hold attacker input.
      log.log('error', 'queue.message.rejected', { reason: 'malformed', code: e.code, detail: e.message });
      return undefined;
    }
    throw e;
  }
}

/** The message itself is delivered again: sent back to wait for the claim, or a transient failure the host retries. */
function comesAgain(result: RunResult): boolean {
  return result.kind === 'waiting' || (result.kind === 'finished' && result.redeliver);
}

function report(result: RunResult, log: StructuredLogger): void {
  if (result.kind === 'collapsed') return void log.log('info', 'remediation.collapsed', collapsedReason(result));
  if (result.kind === 'waiting') {
    return void log.log('info', 'remediation.waiting', {
      holder: result.holder,
      retryAfterMs: result.retryAfterMs,
      detail: 'another remediation of this resource is running; this one reads it afresh after that one',
    });
  }
  if (result.kind === 'finished' && result.redeliver) {
    const { outcome } = result;
    throw new RedeliveryRequestedError(
      `transient failure for ${outcome.resourceId}: ${outcome.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}; the host will retry`,
    );
  }
}
