import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { collapsedReason, RedeliveryRequestedError, remediationPorts, runRemediation } from '../app/run-remediation';
import { isAutopilotError } from '../errors';
import { createLogger } from '../logging/logger';
import { MalformedRemediationMessageError, parseRemediationMessage } from '../sweep/remediation-queue';
import { contextSink } from './resource-write-success';
import { triggerMetadataInt, triggerMetadataTime } from './trigger-metadata';

/**
 * Queue trigger on the remediation queue: one resource per message, found non-compliant by a sweep or
 * handed off by a trigger that could not finish it, fixed by the same engine as events. A handed-off
 * remediation carries on where it stopped: a write still running is polled, never sent again. What
 * still cannot finish (a running write, a busy resource, throttling, a 403 within its window) goes
 * back on the queue as a new message with a delay matching the wait, under the same remediation id,
 * so the ledger keeps one row for it. Other transient failures throw, so the host makes the message
 * visible again after visibilityTimeout and, after maxDequeueCount attempts, moves it to
 * `<queue>-poison`. A permanent failure is logged and recorded, and the message is done.
 */
export function createRemediationQueueHandler(getAutopilot: () => Autopilot) {
  return async function remediationQueue(message: unknown, context: InvocationContext): Promise<void> {
    const receivedAt = new Date().toISOString();
    const dequeueCount = triggerMetadataInt(context.triggerMetadata?.dequeueCount) ?? 1;
    const log = createLogger(contextSink(context), {
      invocationId: context.invocationId,
      trigger: 'queue',
      messageId: context.triggerMetadata?.id,
      dequeueCount,
    });
    let parsed;
    try {
      parsed = parseRemediationMessage(message);
    } catch (e) {
      if (e instanceof MalformedRemediationMessageError || isAutopilotError(e, 'InvalidResourceId')) {
        log.log('error', 'queue.message.rejected', { reason: 'malformed', code: e.code, detail: e.message });
        // Thrown so the host parks it in the poison queue, where an operator can see it.
        throw new Error(`malformed remediation message: ${e.code}: ${e.message}`);
      }
      throw e;
    }
    const autopilot = getAutopilot();
    const remediationId = parsed.remediationId ?? randomUUID();
    const scoped = log.child({
      correlationId: parsed.correlationId,
      resourceId: parsed.resourceId,
      sweepId: parsed.sweepId,
      remediationId,
    });
    // From the original event across hand-offs; else the remediation's first start; else when the sweep queued it.
    const since = parsed.eventTime ?? parsed.startedAt ?? triggerMetadataTime(context.triggerMetadata?.insertionTime) ?? receivedAt;
    const result = await runRemediation(remediationPorts(autopilot), {
      resourceId: parsed.resourceId,
      remediationId,
      correlationId: parsed.correlationId || context.invocationId,
      mode: 'apply',
      trigger: 'queue',
      // One remediation per resource across every instance: while another runs, this one waits its turn.
      claim: { kind: 'queue', message: parsed },
      // Other transient failures throw instead: the host's own retries (and poison queue) handle them.
      handOff: {
        transientFailures: false,
        origin: {
          eventId: parsed.eventId,
          eventTime: parsed.eventTime,
          sweepId: parsed.sweepId,
          rule: parsed.rule,
          problems: parsed.problems,
        },
      },
      resume: parsed.resume,
      startedAt: parsed.startedAt,
      deliveredAt: Date.parse(receivedAt),
      record: { eventId: parsed.eventId, eventTime: since },
      log: scoped,
    });
    if (result.kind === 'collapsed') {
      return void scoped.log('info', 'remediation.collapsed', collapsedReason(result));
    }
    if (result.kind === 'waiting') {
      return void scoped.log('info', 'remediation.waiting', {
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
  };
}
