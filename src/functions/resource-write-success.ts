import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { appsAfterComponentDelete, appsUsingComponent, componentEventSkip, daprComponentOf } from '../app/dapr-component-events';
import { runCleanUp } from '../app/run-clean-up';
import { collapsedReason, RedeliveryRequestedError, remediationPorts, runRemediation } from '../app/run-remediation';
import {
  MalformedEventError,
  parseResourceWriteEvent,
  RESOURCE_DELETE_SUCCESS,
  type ResourceWriteEvent,
  triageDeleteEvent,
  triageEvent,
} from '../events/resource-write-event';
import { createLogger, type LogLevel, type StructuredLogger } from '../logging/logger';

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
 * logged with the reason and acknowledged. The work is done inline while it fits in the delivery;
 * what cannot finish in it (a write still running, a busy resource, ARM throttling, a 403 while the
 * app's roles propagate, other transient failures) is handed to the remediation queue with a delay
 * matching the wait, and the event is acknowledged as `deferred`: Event Grid's own retries (10 s,
 * 30 s, 1 min, 5 min...) are never needed for that. Only without a queue, or when the queue cannot be
 * reached, does a transient failure throw so Event Grid redelivers. A permanent failure is logged
 * and acknowledged, so it never turns into a retry storm.
 */
export function createResourceWriteSuccessHandler(getAutopilot: () => Autopilot) {
  return async function resourceWriteSuccess(event: unknown, context: InvocationContext): Promise<void> {
    const receivedAt = new Date().toISOString();
    const log = createLogger(contextSink(context), { invocationId: context.invocationId, trigger: 'eventGrid' });
    let parsed;
    try {
      parsed = parseResourceWriteEvent(event);
    } catch (e) {
      if (e instanceof MalformedEventError)
        return void log.log('warn', 'event.rejected', { reason: 'malformed', code: e.code, detail: e.message });
      throw e;
    }
    const autopilot = getAutopilot();
    const scoped = log.child({ eventId: parsed.id, correlationId: parsed.correlationId ?? parsed.id, resourceId: parsed.resourceId });
    if (parsed.eventType === RESOURCE_DELETE_SUCCESS) return cleanUpAfterDelete(autopilot, parsed, scoped, receivedAt);
    const triage = triageEvent(parsed, await autopilot.self());
    if (triage.action === 'ignore') return void scoped.log('info', 'event.ignored', { reason: triage.reason, detail: triage.detail });
    // A Dapr component write rewires every governed app the component is scoped to.
    if (daprComponentOf(triage.resourceId)) return replanComponentApps(autopilot, parsed, triage.resourceId, scoped, receivedAt, 'written');
    // Out of scope by its id alone (most writes in a subscription): no ARM call, no ledger row.
    const outOfScope = autopilot.remediator.skipByIdAlone(triage.resourceId);
    if (outOfScope) return void scoped.log('info', 'event.ignored', outOfScope);
    if (await alreadyHandled(autopilot, parsed, scoped)) return;
    await remediateOne(autopilot, parsed, triage.resourceId, scoped, receivedAt);
  };
}

/**
 * A ResourceDeleteSuccess: clean up what the product made for the resource (run-clean-up.ts, which asks
 * ARM first whether it is really gone), or plan again the apps a deleted Dapr component served.
 */
async function cleanUpAfterDelete(autopilot: Autopilot, parsed: ResourceWriteEvent, scoped: StructuredLogger, receivedAt: string) {
  const triage = triageDeleteEvent(parsed);
  if (triage.action === 'ignore') return void scoped.log('info', 'event.ignored', { reason: triage.reason, detail: triage.detail });
  if (daprComponentOf(triage.resourceId)) return replanComponentApps(autopilot, parsed, triage.resourceId, scoped, receivedAt, 'deleted');
  // Out of scope by its id alone (most deletes in a subscription): no ARM call, no ledger read.
  const outOfScope = autopilot.remediator.skipByIdAlone(triage.resourceId);
  if (outOfScope) return void scoped.log('info', 'event.ignored', outOfScope);
  if (await alreadyHandled(autopilot, parsed, scoped)) return;
  const { outcome, redeliver } = await runCleanUp(autopilot, {
    resourceId: triage.resourceId,
    correlationId: parsed.correlationId ?? parsed.id,
    eventId: parsed.id,
    eventTime: parsed.eventTime ?? receivedAt,
    log: scoped,
  });
  if (redeliver) {
    throw new RedeliveryRequestedError(
      `clean-up of ${outcome.resourceId} not finished: ${outcome.errors.map((e) => e.code).join(', ')}; Event Grid will redeliver`,
    );
  }
}

/** Event Grid delivers at least once: a redelivery of finished work is acknowledged (and logged) without a call to ARM. */
async function alreadyHandled(autopilot: Autopilot, parsed: ResourceWriteEvent, scoped: StructuredLogger): Promise<boolean> {
  if (!(await autopilot.ledger.hasHandledEvent(parsed.id))) return false;
  scoped.log('info', 'event.ignored', { reason: 'duplicate-delivery', detail: `event ${parsed.id} was already handled` });
  return true;
}

/**
 * A Dapr component written or deleted: every governed app it serves (or served) is planned again. An
 * ungoverned environment's component is out of scope by its id and the rules alone: acknowledged with no
 * ARM call and no ledger read.
 */
async function replanComponentApps(
  autopilot: Autopilot,
  parsed: ResourceWriteEvent,
  componentId: string,
  scoped: StructuredLogger,
  receivedAt: string,
  change: 'written' | 'deleted',
): Promise<void> {
  const signal = AbortSignal.timeout(autopilot.settings.budgetSeconds * 1000);
  const skip = await componentEventSkip(autopilot, componentId, signal);
  if (skip) return void scoped.log('info', 'event.ignored', skip);
  if (await alreadyHandled(autopilot, parsed, scoped)) return;
  const apps =
    change === 'written'
      ? await appsUsingComponent(autopilot, componentId, signal)
      : await appsAfterComponentDelete(autopilot, componentId, signal);
  scoped.log('info', `dapr.component-${change}`, { apps: apps.length });
  for (const app of apps) await remediateOne(autopilot, parsed, app, scoped.child({ resourceId: app, dueTo: componentId }), receivedAt);
}

/** Remediates one resource for an event: inline, handing off to the queue what does not fit. */
async function remediateOne(
  autopilot: Autopilot,
  parsed: ResourceWriteEvent,
  resourceId: string,
  scoped: StructuredLogger,
  receivedAt: string,
): Promise<void> {
  // An app a component event names may be out of scope by its id alone.
  const outOfScope = autopilot.remediator.skipByIdAlone(resourceId);
  if (outOfScope) return void scoped.log('info', 'event.ignored', outOfScope);
  const remediationId = randomUUID();
  const correlationId = parsed.correlationId ?? parsed.id;
  const result = await runRemediation(remediationPorts(autopilot), {
    resourceId,
    remediationId,
    correlationId,
    mode: 'apply',
    trigger: 'eventGrid',
    // One remediation per resource across every instance: a duplicate event collapses into the one that
    // runs, or waits on the queue, for it.
    claim: { kind: 'event', write: { eventId: parsed.id, eventTime: parsed.eventTime, correlationId } },
    handOff: { transientFailures: true, origin: { eventId: parsed.id, eventTime: parsed.eventTime } },
    deliveredAt: Date.parse(receivedAt),
    record: { eventId: parsed.id, eventTime: parsed.eventTime ?? receivedAt },
    log: scoped,
    logFields: { remediationId },
  });
  if (result.kind === 'collapsed') return void scoped.log('info', 'event.ignored', collapsedReason(result));
  if (result.kind === 'finished' && result.redeliver) {
    const { outcome } = result;
    throw new RedeliveryRequestedError(
      `transient failure for ${outcome.resourceId}: ${outcome.errors.map((e) => e.code).join(', ')}; Event Grid will redeliver`,
    );
  }
}
