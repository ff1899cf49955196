import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { createLogger } from '../logging/logger';
import { isTransientOutcome, outcomeLogLevel, summarizeOutcome } from '../outcomes/summary';
import { handOffMessage, MalformedRemediationMessageError, parseRemediationMessage, visibilityDelaySeconds } from '../sweep/remediation-queue';
import { contextSink } from './resource-write-success';
import { triggerMetadataInt, triggerMetadataTime } from './trigger-metadata';
import { isAutopilotError } from '../errors';
import { abandonClaim, claimForQueue, endClaim } from '../app/resource-claims';

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
    const log = createLogger(contextSink(context), { invocationId: context.invocationId, trigger: 'queue', messageId: context.triggerMetadata?.id, dequeueCount });
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
    const scoped = log.child({ correlationId: parsed.correlationId, resourceId: parsed.resourceId, sweepId: parsed.sweepId, remediationId });
    const queue = autopilot.sweep.queue;
    // One remediation per resource across every instance: while another runs, this one waits its turn.
    const claim = queue && (await claimForQueue(autopilot.ledger, parsed.resourceId, remediationId, autopilot.settings.budgetSeconds * 1000, parsed.resume !== undefined));
    if (claim && claim.kind === 'collapsed') {
      return void scoped.log('info', 'remediation.collapsed', { reason: 'remediation-pending', detail: `remediation ${claim.holder} of this resource is queued until ${claim.queuedUntil} and will read it afresh` });
    }
    if (claim && claim.kind === 'busy') {
      await queue!.send(parsed, { visibilityDelaySeconds: visibilityDelaySeconds(claim.retryAfterMs) });
      return void scoped.log('info', 'remediation.waiting', { holder: claim.holder, retryAfterMs: claim.retryAfterMs, detail: 'another remediation of this resource is running; this one reads it afresh after that one' });
    }
    let outcome;
    try {
      outcome = await autopilot.remediator.remediate({
        resourceId: parsed.resourceId,
        correlationId: parsed.correlationId || context.invocationId,
        mode: 'apply',
        handOff: queue ? { transientFailures: false } : undefined,
        resume: parsed.resume,
        startedAt: parsed.startedAt,
        deliveredAt: Date.parse(receivedAt),
      });
      if (outcome.status === 'deferred' && outcome.deferral && queue) {
        // Sent before this message is completed: if sending fails, the throw makes the host retry this one.
        const next = handOffMessage({ ...outcome, deferral: outcome.deferral }, { remediationId, eventId: parsed.eventId, eventTime: parsed.eventTime, sweepId: parsed.sweepId, rule: parsed.rule, problems: parsed.problems });
        await queue.send(next, { visibilityDelaySeconds: visibilityDelaySeconds(outcome.deferral.retryAfterMs) });
      }
      scoped.log(outcomeLogLevel(outcome), 'remediation.outcome', summarizeOutcome(outcome));
      // From the original event across hand-offs; else the remediation's first start; else when the sweep queued it.
      const since = parsed.eventTime ?? parsed.startedAt ?? triggerMetadataTime(context.triggerMetadata?.insertionTime) ?? receivedAt;
      await autopilot.outcomes.record(outcome, { trigger: 'queue', requestId: remediationId, eventId: parsed.eventId, eventTime: since });
    } catch (e) {
      // The host delivers this message again, and that delivery reads the resource afresh.
      await abandonClaim(autopilot.ledger, claim ? claim.token : undefined);
      throw e;
    }
    if (claim && queue) await endClaim(autopilot.ledger, claim.token, queue, outcome, scoped, autopilot.settings.budgetSeconds * 1000);
    if (isTransientOutcome(outcome)) {
      throw new Error(`transient failure for ${outcome.resourceId}: ${outcome.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}; the host will retry`);
    }
  };
}
