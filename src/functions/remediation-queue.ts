import type { InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { createLogger } from '../logging/logger';
import { isTransientOutcome, outcomeLogLevel, summarizeOutcome } from '../outcomes/summary';
import { MalformedRemediationMessageError, parseRemediationMessage } from '../sweep/remediation-queue';
import { contextSink } from './resource-write-success';
import { triggerMetadataInt } from './trigger-metadata';
import { isAutopilotError } from '../errors';

/**
 * Queue trigger on the remediation queue: one non-compliant resource found by a sweep, fixed by the
 * same engine as events. A transient failure throws, so the host makes the message visible again
 * after visibilityTimeout and, after maxDequeueCount attempts, moves it to `<queue>-poison`.
 * A permanent failure is logged and recorded, and the message is done.
 */
export function createRemediationQueueHandler(getAutopilot: () => Autopilot) {
  return async function remediationQueue(message: unknown, context: InvocationContext): Promise<void> {
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
    const scoped = log.child({ correlationId: parsed.correlationId, resourceId: parsed.resourceId, sweepId: parsed.sweepId });
    const outcome = await autopilot.remediator.remediate({ resourceId: parsed.resourceId, correlationId: parsed.correlationId || context.invocationId, mode: 'apply' });
    scoped.log(outcomeLogLevel(outcome), 'remediation.outcome', summarizeOutcome(outcome));
    await autopilot.outcomes.record(outcome, { trigger: 'queue' });
    if (isTransientOutcome(outcome)) {
      throw new Error(`transient failure for ${outcome.resourceId}: ${outcome.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}; the host will retry`);
    }
  };
}
