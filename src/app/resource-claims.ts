import { randomUUID } from 'node:crypto';
import type { RemediationOutcome } from '../engine/types';
import type { ClaimStore, ClaimToken, LaterWrite } from '../ledger/claims';
import type { HandOffStore } from '../ledger/hand-offs';
import type { StructuredLogger } from '../logging/logger';
import { isTransientOutcome } from '../outcomes/summary';
import { handOffMessage, handOffTtlMs, type RemediationQueuePort } from '../sweep/remediation-queue';

/** The queue and where the state of what goes on it is kept (the message carries only its id). */
export interface QueueWithState {
  queue: RemediationQueuePort;
  handOffs: HandOffStore;
}

/**
 * One remediation per resource at a time, across every instance (see ledger/claims.ts for why and
 * how). The triggers' side of it: claim before remediating, collapse a duplicate event into the
 * running remediation, and after the work, look again when a later write was marked meanwhile.
 */

/** Time kept past the budget to record the outcome and hand off; the claim outlives its holder by no more. */
const CLAIM_MARGIN_MS = 5000;
/** How late the host's queue listener may pick a message up once visible: host.json's maxPollingInterval. */
const QUEUE_PICKUP_MS = 10_000;
/** A queued remediation that finds another running waits at most this long before it tries again. */
const MAX_BUSY_WAIT_MS = 10_000;

export function claimTtlMs(budgetMs: number): number {
  return budgetMs + CLAIM_MARGIN_MS;
}

export type EventClaim =
  /** This event's remediation holds the resource: run it, then `finish`. */
  | { kind: 'held'; token: ClaimToken }
  /**
   * Another remediation holds the resource and was told it changed again: this event adds nothing. With
   * `queuedUntil` it waits on the queue and reads the resource afresh then; otherwise it is running and
   * looks again when it ends.
   */
  | { kind: 'collapsed'; holder: string; expiresAt: string; queuedUntil?: string };

/**
 * For an event: claims the resource, or collapses into the remediation that holds it. A claim that
 * ends between the two steps is claimed again, so the event is never dropped.
 */
export async function claimForEvent(
  claims: ClaimStore,
  resourceId: string,
  holder: string,
  budgetMs: number,
  write: LaterWrite,
): Promise<EventClaim> {
  for (let attempt = 0; ; attempt++) {
    const claim = await claims.claim(resourceId, holder, claimTtlMs(budgetMs));
    if (claim.held) return { kind: 'held', token: claim.token };
    if (await claims.markChanged(resourceId, write))
      return { kind: 'collapsed', holder: claim.holder, expiresAt: claim.expiresAt, queuedUntil: claim.queuedUntil };
    if (attempt >= 2) throw new Error(`the claim of ${resourceId} kept ending and starting while this event was being collapsed into it`);
  }
}

export type QueueClaim =
  | { kind: 'held'; token: ClaimToken }
  /** Another remediation of the resource runs: this one waits for it, then reads the resource afresh. */
  | { kind: 'busy'; holder: string; retryAfterMs: number }
  /** Another remediation of the resource waits on the queue and will read it afresh: this message adds nothing. */
  | { kind: 'collapsed'; holder: string; queuedUntil: string };

/**
 * For a queued remediation: claims the resource, or says how long to wait for the one that holds it. A
 * message that carries a hand-off (a running write to poll, what was done) never collapses; a fresh one
 * (a sweep's finding, a follow-up) collapses into a remediation that is itself queued.
 */
export async function claimForQueue(
  claims: ClaimStore,
  resourceId: string,
  holder: string,
  budgetMs: number,
  carriesHandOff: boolean,
): Promise<QueueClaim> {
  const claim = await claims.claim(resourceId, holder, claimTtlMs(budgetMs));
  if (claim.held) return { kind: 'held', token: claim.token };
  if (claim.queuedUntil && !carriesHandOff) return { kind: 'collapsed', holder: claim.holder, queuedUntil: claim.queuedUntil };
  const left = Date.parse(claim.expiresAt) - Date.now();
  return { kind: 'busy', holder: claim.holder, retryAfterMs: Math.min(MAX_BUSY_WAIT_MS, Math.max(1000, left)) };
}

/**
 * Ends the claim after the remediation. When a later write was marked while it ran and nothing else
 * will read the resource again (`readAgain`: a transient failure is delivered again), puts one fresh
 * remediation on the queue for it: the GET this one made may have come before that write. Returns the
 * follow-up's id, if any. If the queue cannot take it the error propagates, so the trigger's own
 * message or event is delivered again and the change is not lost.
 */
export async function finishClaim(
  claims: ClaimStore,
  token: ClaimToken,
  to: QueueWithState,
  after: { readAgain: boolean; correlationId: string },
): Promise<{ followUp?: string; laterWrite?: LaterWrite }> {
  const laterWrite = await claims.release(token);
  if (!laterWrite || after.readAgain) return { laterWrite };
  const followUp = randomUUID();
  const correlationId = laterWrite.correlationId ?? after.correlationId;
  // A new remediation (no start, no resume) that records the later write's event as its own.
  const id = await to.handOffs.save(
    { remediationId: followUp, resourceId: token.resourceId, correlationId, eventId: laterWrite.eventId, eventTime: laterWrite.eventTime },
    handOffTtlMs(0),
  );
  await to.queue.send(handOffMessage(token.resourceId, id, { correlationId }));
  return { followUp, laterWrite };
}

/**
 * After a trigger's remediation. Handed off to the queue, it keeps the claim until the queued part has
 * had its turn (events meanwhile are `remediation-pending`: that part reads the resource afresh).
 * Otherwise the claim ends, with a follow-up when a later write was marked and nothing else will read
 * the resource again (a transient failure is delivered again).
 */
export async function endClaim(
  claims: ClaimStore,
  token: ClaimToken,
  queue: QueueWithState,
  outcome: RemediationOutcome,
  log: StructuredLogger,
  budgetMs: number,
): Promise<void> {
  if (outcome.status === 'deferred' && outcome.deferral) {
    const queuedUntil = Date.now() + outcome.deferral.retryAfterMs;
    await claims.hold(
      token,
      new Date(queuedUntil).toISOString(),
      new Date(queuedUntil + QUEUE_PICKUP_MS + claimTtlMs(budgetMs)).toISOString(),
    );
    return;
  }
  const { followUp, laterWrite } = await finishClaim(claims, token, queue, {
    readAgain: isTransientOutcome(outcome),
    correlationId: outcome.correlationId,
  });
  if (followUp)
    log.log('info', 'remediation.follow-up', {
      remediationId: followUp,
      dueTo: laterWrite?.eventId,
      detail: 'the resource was written again while this remediation ran; a fresh one reads it on the queue',
    });
}

/** When the trigger throws: its event or message is delivered again and reads the resource afresh, so the claim just ends. */
export async function abandonClaim(claims: ClaimStore, token: ClaimToken | undefined): Promise<void> {
  if (token) await claims.release(token).catch(() => undefined);
}
