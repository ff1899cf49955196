import { randomUUID } from 'node:crypto';
import type { ResumePoint } from '../engine/hand-off';
import type { HandOffLease, HandOffRejection, HandOffStore } from '../ledger/hand-offs';
import type { ComplianceProblem } from '../sweep/compliance';
import type { RemediationMessage } from '../sweep/remediation-queue';
import type { RemediationOrigin } from './run-remediation';

/**
 * What a queue message may start: the remediation the queue trigger runs for it. Only a hand-off the
 * app stored (src/ledger/hand-offs.ts), for this very resource and not yet carried on, continues a
 * remediation (its id, start, event, what was done, the hand-off bounds). Anything else in a message
 * is attacker input, so at most it asks for the resource to be looked at afresh, as a sweep finding
 * does: the engine re-reads Azure, under a new remediation id of the app's own making.
 */
export interface QueuedRemediation {
  remediationId: string;
  correlationId: string;
  startedAt?: string;
  resume?: ResumePoint;
  eventId?: string;
  /** When the work began, for event-to-done: the event's time across hand-offs, else the remediation's start, else the enqueue. */
  since: string;
  origin: RemediationOrigin;
  /** The stored hand-off carried on, consumed once this delivery is done with it. */
  lease?: HandOffLease;
  /** Why the hand-off the message named was not carried on. */
  rejected?: { reason: HandOffRejection; detail: string };
}

/** A time no later than `at`: a stored or delivered time in the future must not stretch a window or a duration. */
export function notAfter(time: string | undefined, at: number): string | undefined {
  if (time === undefined) return undefined;
  const t = Date.parse(time);
  if (!Number.isFinite(t)) return undefined;
  return t > at ? new Date(at).toISOString() : time;
}

export async function queuedRemediation(
  handOffs: HandOffStore,
  message: RemediationMessage,
  delivery: { receivedAt: number; insertedAt?: string },
): Promise<QueuedRemediation> {
  const at = delivery.receivedAt;
  const enqueued = notAfter(delivery.insertedAt, at) ?? new Date(at).toISOString();
  const fresh: QueuedRemediation = {
    remediationId: randomUUID(),
    correlationId: message.correlationId,
    since: enqueued,
    origin: { sweepId: message.sweepId, rule: message.rule, problems: message.problems },
  };
  if (message.handOff === undefined) return fresh;
  const check = await handOffs.check(message.handOff, message.resourceId, at);
  if (check.kind === 'rejected') return { ...fresh, rejected: { reason: check.reason, detail: check.detail } };
  const stored = check.handOff;
  const startedAt = notAfter(stored.startedAt, at);
  const eventTime = notAfter(stored.eventTime, at);
  const resume = stored.resume && {
    ...stored.resume,
    authorizationFailingSince: notAfter(stored.resume.authorizationFailingSince, at),
  };
  return {
    remediationId: stored.remediationId,
    correlationId: stored.correlationId || message.correlationId,
    startedAt,
    resume,
    eventId: stored.eventId,
    since: eventTime ?? startedAt ?? enqueued,
    origin: {
      eventId: stored.eventId,
      eventTime,
      sweepId: stored.sweepId,
      rule: stored.rule,
      problems: stored.problems as ComplianceProblem[] | undefined,
    },
    lease: check.lease,
  };
}
