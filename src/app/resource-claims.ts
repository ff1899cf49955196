import { randomUUID } from 'node:crypto';
import type { RemediationOutcome } from '../engine/types';
import type { ClaimStore, ClaimToken, LaterWrite } from '../ledger/claims';
import type { StructuredLogger } from '../logging/logger';
import { isTransientOutcome } from '../outcomes/summary';
import type { RemediationMessage, RemediationQueuePort } from '../sweep/remediation-queue';

/**
 * One remediation per resource at a time, across every instance (see ledger/claims.ts for why and
 * how). The triggers' side of it: claim before remediating, collapse a duplicate event into the
 * running remediation, and after the work, look again when a later write was marked meanwhile.
 */

/** Time kept past the budget to record the outcome and hand off; the claim outlives its holder by no more. */
const CLAIM_MARGIN_MS = 5000;
/** A queued remediation that finds another running waits at most this long before it tries again. */
const MAX_BUSY_WAIT_MS = 10_000;

export function claimTtlMs(budgetMs: number): number {
  return budgetMs + CLAIM_MARGIN_MS;
}

export type EventClaim =
  /** This event's remediation holds the resource: run it, then `finish`. */
  | { kind: 'held'; token: ClaimToken }
  /** Another remediation is running and was told the resource changed again: this event adds nothing. */
  | { kind: 'collapsed'; holder: string; expiresAt: string };

/**
 * For an event: claims the resource, or collapses into the remediation that holds it. A claim that
 * ends between the two steps is claimed again, so the event is never dropped.
 */
export async function claimForEvent(claims: ClaimStore, resourceId: string, holder: string, budgetMs: number, write: LaterWrite): Promise<EventClaim> {
  for (let attempt = 0; ; attempt++) {
    const claim = await claims.claim(resourceId, holder, claimTtlMs(budgetMs));
    if (claim.held) return { kind: 'held', token: claim.token };
    if (await claims.markChanged(resourceId, write)) return { kind: 'collapsed', holder: claim.holder, expiresAt: claim.expiresAt };
    if (attempt >= 2) throw new Error(`the claim of ${resourceId} kept ending and starting while this event was being collapsed into it`);
  }
}

export type QueueClaim = { kind: 'held'; token: ClaimToken } | { kind: 'busy'; holder: string; retryAfterMs: number };

/**
 * For a queued remediation: claims the resource, or says how long to wait for the one that holds it.
 * It does not collapse: the message may carry a running write to poll or a sweep's finding, and it
 * reads the resource afresh once the other has ended.
 */
export async function claimForQueue(claims: ClaimStore, resourceId: string, holder: string, budgetMs: number): Promise<QueueClaim> {
  const claim = await claims.claim(resourceId, holder, claimTtlMs(budgetMs));
  if (claim.held) return { kind: 'held', token: claim.token };
  const left = Date.parse(claim.expiresAt) - Date.now();
  return { kind: 'busy', holder: claim.holder, retryAfterMs: Math.min(MAX_BUSY_WAIT_MS, Math.max(1000, left)) };
}

/**
 * Ends the claim after the remediation. When a later write was marked while it ran and nothing else
 * will read the resource again (a deferred remediation does when it carries on; a transient failure is
 * delivered again), puts one fresh
 * remediation on the queue for it: the GET this one made may have come before that write. Returns the
 * follow-up's id, if any. If the queue cannot take it the error propagates, so the trigger's own
 * message or event is delivered again and the change is not lost.
 */
export async function finishClaim(claims: ClaimStore, token: ClaimToken, queue: RemediationQueuePort, after: { readAgain: boolean; correlationId: string }): Promise<{ followUp?: string; laterWrite?: LaterWrite }> {
  const laterWrite = await claims.release(token);
  if (!laterWrite || after.readAgain) return { laterWrite };
  const followUp = randomUUID();
  await queue.send(followUpMessage(token.resourceId, followUp, laterWrite, after.correlationId));
  return { followUp, laterWrite };
}

function followUpMessage(resourceId: string, remediationId: string, write: LaterWrite, correlationId: string): RemediationMessage {
  return {
    version: 1,
    resourceId,
    correlationId: write.correlationId ?? correlationId,
    sweepId: '',
    rule: '',
    problems: [],
    remediationId,
    eventId: write.eventId,
    eventTime: write.eventTime,
  };
}

/**
 * After a trigger's remediation: ends its claim, and logs the follow-up when a later write needs one.
 * A deferred remediation reads the resource afresh when it carries on, and a transient failure is
 * delivered again, so only the other outcomes need one.
 */
export async function endClaim(claims: ClaimStore, token: ClaimToken, queue: RemediationQueuePort, outcome: RemediationOutcome, log: StructuredLogger): Promise<void> {
  const { followUp, laterWrite } = await finishClaim(claims, token, queue, { readAgain: outcome.status === 'deferred' || isTransientOutcome(outcome), correlationId: outcome.correlationId });
  if (followUp) log.log('info', 'remediation.follow-up', { remediationId: followUp, dueTo: laterWrite?.eventId, detail: 'the resource was written again while this remediation ran; a fresh one reads it on the queue' });
}

/** When the trigger throws: its event or message is delivered again and reads the resource afresh, so the claim just ends. */
export async function abandonClaim(claims: ClaimStore, token: ClaimToken | undefined): Promise<void> {
  if (token) await claims.release(token).catch(() => undefined);
}
