import type { MissingPermission } from '../errors';
import type { OperationMonitor } from './call-budget';
import type { ActionRecord, Plan } from './types';

/**
 * Hand-offs: when a remediation cannot finish inside one delivery (an Event Grid delivery waits about
 * 30 s; AKS and ACI writes take minutes; ARM's authorization cache takes up to 30 minutes to see a new
 * role assignment), the trigger puts the rest on the remediation queue with a delay that matches the
 * wait and acknowledges the delivery. These are the pure pieces: what a hand-off carries, and how long
 * to wait. The triggers do the queueing.
 */

/** A write Azure accepted that was still running at the hand-off: it is polled, never sent again. */
export interface PendingWrite {
  resourceId: string;
  monitor: OperationMonitor;
  /** The identity type before and the one written, for the outcome's action record. */
  from: string;
  to: string;
}

/** What the next attempt needs to carry on where this one stopped. Serialised into the queue message. */
export interface ResumePoint {
  /** Hand-offs so far (1 on the first resumed attempt). */
  attempt: number;
  operation?: PendingWrite;
  /** What was already done, so the one ledger row of the remediation lists everything. */
  actions: ActionRecord[];
  /** The principal was created by this remediation: it holds no role yet, so no need to list its grants. */
  principalIsNew: boolean;
  /** First 403 of this remediation (ISO time): authorization retries stop a window after it. */
  authorizationFailingSince?: string;
}

export type DeferralReason =
  /** Our write was accepted and is still running. */
  | 'operation-running'
  /** The resource is in a non-terminal provisioning state, or its RP said another operation is running. */
  | 'resource-busy'
  /** ARM throttled the app (429 gate closed). */
  | 'throttled'
  /** 403 while new role assignments of the app propagate to ARM's authorization cache. */
  | 'authorization-propagating'
  /** Any other transient failure (5xx, deadline), when the trigger hands those off too. */
  | 'transient';

export interface Deferral {
  reason: DeferralReason;
  detail: string;
  /** When the queue should deliver the rest (the message's visibility delay). */
  retryAfterMs: number;
  resume: ResumePoint;
}

/** Which deferrals a trigger can hand off. */
export interface HandOffPolicy {
  /**
   * Hand off generic transient failures too. The Event Grid trigger does (Event Grid's own retries come
   * minutes apart); the queue trigger does not: its host retries those and parks repeated failures in
   * the poison queue.
   */
  transientFailures: boolean;
}

/**
 * Growing waits for 403s while the app's new role assignments propagate: the window / 120 first
 * (15 s of the default 30 minutes), doubling, at most the window / 6, never past the window's end.
 */
export function authorizationRetryDelayMs(windowMs: number, attempt: number, elapsedMs: number): number {
  const grown = Math.min(windowMs / 6, (windowMs / 120) * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.min(grown, windowMs - elapsedMs));
}

/** Growing waits for other transient failures handed off by the Event Grid trigger: 15 s, 30 s ... 5 min. */
export function transientRetryDelayMs(attempt: number): number {
  return Math.min(300_000, 15_000 * 2 ** Math.max(0, attempt - 1));
}

/** The message a permanent 403 ends with: the action and scope to grant, and why it is no longer retried. */
export function missingPermissionMessage(permission: MissingPermission, windowMs: number | undefined): string {
  const what = permission.linked
    ? `the app's identity may not perform '${permission.action}' on the linked resource '${permission.scope}' that the write refers to`
    : `the app's identity may not perform '${permission.action}' on '${permission.scope}'`;
  const why =
    windowMs === undefined
      ? ''
      : ` (still refused ${Math.round(windowMs / 60_000)} minute(s) after the first attempt, longer than a new role assignment takes to reach ARM)`;
  return `${what}${why}: grant the app a role that allows '${permission.action}' at that scope`;
}

/**
 * Where the next attempt carries on: one more hand-off, every action so far, and whether the principal
 * is this remediation's own (created by it, so it holds no role yet and its grants need not be listed).
 */
export function nextResumePoint(
  previous: ResumePoint | undefined,
  actions: ActionRecord[],
  plan: Plan | undefined,
  next: Partial<ResumePoint>,
): ResumePoint {
  const systemAssignedByUs = plan?.principal.kind === 'system-assigned-after-write';
  const principalIsNew =
    previous?.principalIsNew === true ||
    actions.some((a) => a.kind === 'user-assigned-identity-created' || (a.kind === 'identity-written' && systemAssignedByUs)) ||
    (next.operation !== undefined && systemAssignedByUs);
  return {
    attempt: (previous?.attempt ?? 0) + 1,
    actions,
    // Some grants were already made: the next attempt lists what is held rather than re-granting all.
    principalIsNew: principalIsNew && !actions.some((a) => a.kind === 'role-assigned'),
    authorizationFailingSince: previous?.authorizationFailingSince,
    ...next,
  };
}
