import { parseArmId } from '../arm/resource-id';
import { type ArmCallError, isArmCallError } from '../errors';
import { isTransient, PartialApplyError } from './apply';
import { TurnPastHandOffError, WriteStillRunningError } from './call-budget';
import { type Findings, toOutcomeError } from './findings';
import {
  authorizationRetryDelayMs,
  type DeferralReason,
  type HandOffPolicy,
  missingPermissionMessage,
  nextResumePoint,
  type PendingWrite,
  type ResumePoint,
  transientRetryDelayMs,
} from './hand-off';
import { pacedDelayMs } from './pacing';
import type { PacingPort } from './ports';
import type { ActionRecord, Plan, ResourceState } from './types';

/**
 * Default bound on hand-offs (the authorization window bounds 403s on its own): at a running write's
 * ~25 s per delivery, 40 minutes of polling; at AKS's 60 s busy wait, over an hour and a half.
 */
export const DEFAULT_MAX_HAND_OFFS = 100;

/** How long to wait for a busy resource when its type module is not known (before the read). */
export const DEFAULT_BUSY_RETRY_MS = 15_000;

export interface HandOffSettings {
  /** How long after the first 403 authorization failures are retried through hand-offs. */
  authorizationRetryWindowMs: number;
  /** Most hand-offs of one remediation for reasons other than authorization (bounded by its window). */
  maxHandOffs?: number;
}

/** Where a run stands when it hands off: what it resumes from and what it did so far. */
export interface HandOffPoint {
  resume?: ResumePoint;
  /** Every action of this remediation, earlier deliveries' included. */
  actions: ActionRecord[];
  plan?: Plan;
}

/** A hand-off to the queue, or a failure once the remediation has used up its hand-offs. */
export function deferral(
  point: HandOffPoint,
  settings: HandOffSettings,
  why: { reason: DeferralReason; detail: string; retryAfterMs: number; next?: Partial<ResumePoint> },
): Findings {
  const handOffs = (point.resume?.attempt ?? 0) + 1;
  if (why.reason !== 'authorization-propagating' && handOffs > (settings.maxHandOffs ?? DEFAULT_MAX_HAND_OFFS)) {
    return {
      status: 'failed',
      actions: point.actions,
      errors: [{ code: 'HandOffLimitReached', message: `still not done after ${handOffs - 1} hand-offs: ${why.detail}`, transient: false }],
    };
  }
  return {
    status: 'deferred',
    actions: point.actions,
    deferral: {
      reason: why.reason,
      detail: why.detail,
      retryAfterMs: Math.max(0, Math.round(why.retryAfterMs)),
      resume: nextResumePoint(point.resume, point.actions, point.plan, why.next ?? {}),
    },
  };
}

function isAuthorizationFailure(e: unknown): e is ArmCallError {
  return isArmCallError(e) && e.status === 403 && (e.code === 'AuthorizationFailed' || e.code === 'LinkedAuthorizationFailed');
}

/** The first authorization failure in an error (a partial apply holds one per failed grant). */
export function authorizationFailureIn(e: unknown): ArmCallError | undefined {
  if (isAuthorizationFailure(e)) return e;
  if (e instanceof PartialApplyError) return e.failures.find(isAuthorizationFailure);
  return undefined;
}

/** What a run knew when an error stopped it. */
export interface StoppedAt extends HandOffPoint {
  resourceId: string;
  handOff?: HandOffPolicy;
  resource?: ResourceState;
  /** A write of ours still to be polled (accepted by an earlier delivery, not polled to its end yet). */
  pending?: PendingWrite;
}

type Why = { reason: DeferralReason; detail: string; retryAfterMs: number; next?: Partial<ResumePoint> };

/** Progress, not failure: the write is Azure's now; the next delivery polls the same operation. */
function stillRunning(error: WriteStillRunningError, at: StoppedAt): Why {
  const plan = at.plan;
  const operation: PendingWrite = at.resume?.operation ?? {
    resourceId: at.resourceId,
    monitor: error.monitor,
    from: plan?.identity.action === 'write' ? plan.identity.from : (at.resource?.identity.type ?? 'None'),
    to: plan?.identity.action === 'write' ? plan.identity.to.type : (at.resource?.identity.type ?? 'None'),
  };
  return {
    reason: 'operation-running',
    detail: 'the identity write was accepted and is still running; its operation is polled, not written again',
    retryAfterMs: error.retryAfterMs,
    next: { operation: { ...operation, monitor: error.monitor } },
  };
}

/** A 403 while the app's new role assignments may still be propagating: retried until the window ends. */
function authorizationPropagating(authorization: ArmCallError, at: StoppedAt, settings: HandOffSettings): Why | undefined {
  const now = Date.now();
  const since = at.resume?.authorizationFailingSince ? Date.parse(at.resume.authorizationFailingSince) : now;
  const window = settings.authorizationRetryWindowMs;
  const elapsed = now - since;
  if (elapsed >= window) return undefined;
  const what = authorization.permission ? `'${authorization.permission.action}' on '${authorization.permission.scope}'` : 'a call';
  return {
    reason: 'authorization-propagating',
    detail: `ARM refused ${what} (${authorization.code}); a new role assignment of the app can take minutes to reach ARM, so this is retried until ${new Date(since + window).toISOString()}`,
    retryAfterMs: authorizationRetryDelayMs(window, (at.resume?.attempt ?? 0) + 1, elapsed),
    next: { authorizationFailingSince: new Date(since).toISOString() },
  };
}

/**
 * A transient failure. After one the write may or may not have been accepted: the next attempt
 * re-reads, and a resource still busy with it is deferred again rather than written twice.
 */
function transientFailure(error: unknown, at: StoppedAt, pacing: PacingPort | undefined, subscriptionId: string): Why | undefined {
  const closedFor = pacing?.closedForMs(subscriptionId) ?? 0;
  const cause = error instanceof PartialApplyError ? error.failures.find(isTransient) : error;
  if (closedFor > 0 || (isArmCallError(cause) && cause.status === 429)) {
    return {
      reason: 'throttled',
      detail: `ARM throttled the app's calls; they resume in ${Math.ceil(closedFor / 1000)} s`,
      retryAfterMs: Math.max(closedFor, 1000),
    };
  }
  if (isArmCallError(cause) && cause.status === 409) {
    return {
      reason: 'resource-busy',
      detail: `${cause.code}: another operation on the resource is in progress`,
      retryAfterMs: at.resource?.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS,
    };
  }
  if (!at.handOff?.transientFailures) return undefined;
  const first = toOutcomeError(cause ?? error);
  return {
    reason: 'transient',
    detail: `${first.code}: ${first.message}`,
    retryAfterMs: transientRetryDelayMs((at.resume?.attempt ?? 0) + 1),
  };
}

/** Why an error is handed off, or undefined when it fails here (permanent). */
export function handOffReason(error: unknown, at: StoppedAt, settings: HandOffSettings, pacing: PacingPort | undefined): Why | undefined {
  if (error instanceof WriteStillRunningError) return stillRunning(error, at);
  const authorization = authorizationFailureIn(error);
  if (authorization) return authorizationPropagating(authorization, at, settings);
  const subscriptionId = at.resource?.subscriptionId ?? parseArmId(at.resourceId).subscriptionId!;
  const turn =
    error instanceof TurnPastHandOffError
      ? error
      : error instanceof PartialApplyError
        ? error.failures.find((f) => f instanceof TurnPastHandOffError)
        : undefined;
  if (turn)
    return {
      reason: 'throttled',
      detail: `${turn.message}; the rest waits on the queue`,
      retryAfterMs: pacedDelayMs(pacing, subscriptionId, turn.waitMs),
    };
  if (!isTransient(error)) return undefined;
  return transientFailure(error, at, pacing, subscriptionId);
}

/** The failure an error ends a run with: a permanent 403 names the permission to grant. */
export function failure(error: unknown, at: StoppedAt, settings: HandOffSettings): Findings {
  const authorization = authorizationFailureIn(error);
  if (authorization?.permission) {
    const window = at.resume?.authorizationFailingSince ? settings.authorizationRetryWindowMs : undefined;
    return {
      status: 'failed',
      errors: [
        {
          code: authorization.code,
          message: missingPermissionMessage(authorization.permission, window),
          transient: false,
          permission: authorization.permission,
        },
      ],
    };
  }
  return { status: 'failed', errors: [toOutcomeError(error)] };
}
