import { waitPassesHandOff } from './call-budget';
import type { PacingPort } from './ports';
import type { Plan } from './types';

/**
 * Pacing decisions: whether this delivery can wait for ARM's write budget, or hands the rest to the
 * queue. All of them read the pacing port and the remediation's hand-off time; none makes an ARM call.
 */

/**
 * Longest wait for ARM's write budget a remediation back from the queue sits through in its queue
 * worker; past it, it goes back to the queue. See resumedTurnTooFar. The host processes at most
 * batchSize + newBatchThreshold messages of a queue function at once per instance (QueuesOptions.BatchSize,
 * Microsoft.Azure.WebJobs.Extensions.Storage.Queues: "The maximum number of messages processed in parallel
 * by the job is NewBatchThreshold plus BatchSize"): 12 with this app's host.json.
 */
export const RESUMED_HOLD_MS = 3000;

/**
 * Longest queue delay of a hand-off that waits for ARM's write budget. The wait is this instance's
 * estimate of its share of a budget that other instances spend too; once a message is on the queue its
 * delay cannot be shortened, so an estimate that proves too long would leave the budget unused. Past
 * this delay the remediation comes back and is paced, or sent back again, by what ARM says then (a 429's
 * Retry-After is never cut: the gate check at the start sends it back before any call).
 */
export const MAX_PACED_DELAY_MS = 20_000;

/** A hand-off to wait for ARM: why, and the queue delay. */
export interface PacingHold {
  detail: string;
  delayMs: number;
}

/** The queue delay of a hand-off that waits for ARM's write budget: at most MAX_PACED_DELAY_MS, but never less than a 429's Retry-After. */
export function pacedDelayMs(pacing: PacingPort | undefined, subscriptionId: string, waitMs: number): number {
  return Math.max(pacing?.closedForMs(subscriptionId) ?? 0, Math.min(MAX_PACED_DELAY_MS, waitMs));
}

/** ARM is throttling the subscription for longer than this delivery can wait: no call at all. */
export function throttledPastHandOff(
  pacing: PacingPort | undefined,
  subscriptionId: string,
  handOffAt: number | undefined,
): PacingHold | undefined {
  if (handOffAt === undefined || !pacing) return undefined;
  const closedFor = pacing.closedForMs(subscriptionId);
  if (closedFor <= 0 || !waitPassesHandOff({ handOffAt }, closedFor)) return undefined;
  return {
    detail: `ARM throttled the app's calls to this subscription; they resume in ${Math.ceil(closedFor / 1000)} s`,
    delayMs: closedFor,
  };
}

/**
 * A remediation back from the queue holds one of the host's few queue workers while it waits for its
 * writes' turn. When that turn is far (its booking was early, or other instances took the budget),
 * waiting would starve remediations of other subscriptions whose budget is idle: it goes back to the
 * queue until then, before any ARM call.
 */
export function resumedTurnTooFar(
  pacing: PacingPort | undefined,
  subscriptionId: string,
  handOffAt: number | undefined,
): PacingHold | undefined {
  if (handOffAt === undefined || !pacing) return undefined;
  const turn = pacing.writeTurnMs(subscriptionId);
  if (turn <= RESUMED_HOLD_MS) return undefined;
  // Back behind this instance's own bookings: returns of many remediations spread out instead of all coming back together.
  const wait = Math.max(turn, pacing.bookWrites(subscriptionId, 1));
  return {
    detail: `the app's writes to this subscription already waiting in this instance take ARM's remaining budget for the next ${Math.ceil(turn / 1000)} s`,
    delayMs: pacedDelayMs(pacing, subscriptionId, wait),
  };
}

/** ARM writes a plan makes at most: the user-assigned identity, the identity write, every grant. */
export function plannedWrites(plan: Plan): number {
  return (plan.userAssignedIdentity ? 1 : 0) + (plan.identity.action === 'write' ? 1 : 0) + plan.roleAssignments.length;
}

/**
 * Load levelling: a first attempt books its writes against ARM's remaining budget; when they could not
 * all go inside this delivery, none is started and the remediation waits on the queue for its turn
 * instead. (A resumed one has had its turn booked already: it goes to the pacing directly, which hands
 * it off again only if the pace itself cannot serve it in time, so returns never queue behind newer
 * bookings; the caller does not book for it.)
 */
export function bookingPastHandOff(
  pacing: PacingPort | undefined,
  subscriptionId: string,
  writes: number,
  handOffAt: number | undefined,
): PacingHold | undefined {
  if (handOffAt === undefined || !pacing) return undefined;
  const wait = pacing.bookWrites(subscriptionId, writes);
  if (wait <= 0 || !waitPassesHandOff({ handOffAt }, wait)) return undefined;
  return {
    detail: `ARM's remaining write budget for this subscription, shared by every instance of the app, reaches this remediation in about ${Math.ceil(wait / 1000)} s`,
    delayMs: pacedDelayMs(pacing, subscriptionId, wait),
  };
}
