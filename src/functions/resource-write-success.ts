import type { InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { createLogger, type LogLevel } from '../logging/logger';
import { isTransientOutcome, outcomeLogLevel, summarizeOutcome } from '../outcomes/summary';
import { MalformedEventError, parseResourceWriteEvent, triageEvent } from '../events/resource-write-event';

/** The Functions logger, one JSON line per record. */
export function contextSink(context: InvocationContext) {
  return (level: LogLevel, line: string) => {
    if (level === 'error') context.error(line);
    else if (level === 'warn') context.warn(line);
    else if (level === 'debug') context.debug(line);
    else context.info(line);
  };
}

/**
 * Event Grid trigger for ResourceWriteSuccess (either envelope). Ignored and malformed events are
 * logged with the reason and acknowledged; a transient failure throws so Event Grid redelivers; a
 * permanent one is logged and acknowledged, so it never turns into a retry storm.
 */
export function createResourceWriteSuccessHandler(getAutopilot: () => Autopilot) {
  return async function resourceWriteSuccess(event: unknown, context: InvocationContext): Promise<void> {
    const log = createLogger(contextSink(context), { invocationId: context.invocationId, trigger: 'eventGrid' });
    let parsed;
    try {
      parsed = parseResourceWriteEvent(event);
    } catch (e) {
      if (e instanceof MalformedEventError) return void log.log('warn', 'event.rejected', { reason: 'malformed', code: e.code, detail: e.message });
      throw e;
    }
    const autopilot = getAutopilot();
    const scoped = log.child({ eventId: parsed.id, correlationId: parsed.correlationId ?? parsed.id, resourceId: parsed.resourceId });
    const triage = triageEvent(parsed, await autopilot.self());
    if (triage.action === 'ignore') return void scoped.log('info', 'event.ignored', { reason: triage.reason, detail: triage.detail });
    // Out of scope by its id alone (most writes in a subscription): no ARM call, no ledger row.
    const outOfScope = autopilot.remediator.skipByIdAlone(triage.resourceId);
    if (outOfScope) return void scoped.log('info', 'event.ignored', outOfScope);
    // Event Grid delivers at least once: a redelivery of finished work is acknowledged without a call to ARM.
    if (await autopilot.ledger.hasHandledEvent(parsed.id)) {
      return void scoped.log('info', 'event.ignored', { reason: 'duplicate-delivery', detail: `event ${parsed.id} was already handled` });
    }
    const outcome = await autopilot.remediator.remediate({
      resourceId: triage.resourceId,
      correlationId: parsed.correlationId ?? parsed.id,
      mode: 'apply',
    });
    scoped.log(outcomeLogLevel(outcome), 'remediation.outcome', summarizeOutcome(outcome));
    await autopilot.outcomes.record(outcome, { trigger: 'eventGrid', eventId: parsed.id });
    if (isTransientOutcome(outcome)) {
      throw new Error(`transient failure for ${outcome.resourceId}: ${outcome.errors.map((e) => e.code).join(', ')}; Event Grid will redeliver`);
    }
  };
}
