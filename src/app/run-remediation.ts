import type { RemediationRequest } from '../engine/remediate';
import type { RemediationOutcome } from '../engine/types';
import { AutopilotError } from '../errors';
import type { ClaimStore, ClaimToken, LaterWrite } from '../ledger/claims';
import type { HandOffStore } from '../ledger/hand-offs';
import type { StructuredLogger } from '../logging/logger';
import type { OutcomeRecorder, TriggerKind } from '../outcomes/recorder';
import { isTransientOutcome, outcomeLogLevel, summarizeOutcome } from '../outcomes/summary';
import type { ComplianceProblem } from '../sweep/compliance';
import {
  handOffMessage,
  handOffTtlMs,
  type RemediationMessage,
  type RemediationQueuePort,
  visibilityDelaySeconds,
} from '../sweep/remediation-queue';
import type { Autopilot } from './composition';
import { abandonClaim, claimForEvent, claimForQueue, endClaim } from './resource-claims';

/**
 * The one remediation of a resource, as every entry point runs it (Event Grid, the remediation queue,
 * HTTP, the CLI): claim the resource, remediate, hand the rest off to the queue, log the outcome,
 * record it, release the claim, and say whether the delivery must come again. What differs between
 * entry points is data in `RemediationRun`; the entry points themselves only parse and map the result.
 */

/** What the use case needs from the app; narrow, so tests can hand it fakes. */
export interface RemediationPorts {
  remediator: { remediate(request: RemediationRequest): Promise<RemediationOutcome> };
  claims: ClaimStore;
  /** The remediation queue. Without one nothing is claimed (nothing could wait) and nothing handed off. */
  queue?: RemediationQueuePort;
  /** Where a hand-off's state is kept (the ledger's table): the queue message carries only its id. */
  handOffs: HandOffStore;
  outcomes: OutcomeRecorder;
  /** One remediation's budget (ms): a claim outlives its holder by little more. */
  budgetMs: number;
}

export function remediationPorts(autopilot: Autopilot): RemediationPorts {
  return {
    remediator: autopilot.remediator,
    claims: autopilot.ledger,
    queue: autopilot.sweep.queue,
    handOffs: autopilot.ledger.handOffs,
    outcomes: autopilot.outcomes,
    budgetMs: autopilot.settings.budgetSeconds * 1000,
  };
}

/**
 * How a trigger claims the resource, one remediation per resource across instances. `event`: a
 * duplicate collapses into the holder, telling it of this write. `queue`: the message waits for the
 * holder, and is sent again (`message`) to come back when the holder is done; one that carries no
 * hand-off (`carriesHandOff`: a write to poll, what was done) collapses into a queued remediation.
 */
export type ClaimPolicy = { kind: 'event'; write: LaterWrite } | { kind: 'queue'; message: RemediationMessage; carriesHandOff: boolean };

/** Where a remediation came from, kept with every hand-off of it. */
export interface RemediationOrigin {
  eventId?: string;
  eventTime?: string;
  sweepId?: string;
  rule?: string;
  problems?: ComplianceProblem[];
}

export interface RemediationRun<Refusal = never> {
  resourceId: string;
  /** The ledger row's request id, the claim's holder, and what every hand-off carries. */
  remediationId: string;
  correlationId: string;
  mode: 'plan' | 'apply';
  trigger: TriggerKind;
  /** Absent: no claim (a person asked and waits for the answer now). */
  claim?: ClaimPolicy;
  /** Set where what does not fit in this delivery may go to the queue, and where the remediation came from. */
  handOff?: { transientFailures: boolean; origin: RemediationOrigin };
  requestedProfiles?: readonly string[];
  resume?: RemediationRequest['resume'];
  startedAt?: string;
  deliveredAt?: number;
  /** The ledger row's event and event-to-done start. Absent: nothing is recorded (a plan is a question, not an action). */
  record?: { eventId?: string; eventTime?: string };
  log: StructuredLogger;
  /** Added to the outcome's log line. */
  logFields?: Record<string, unknown>;
  /** An outcome the entry point refuses to report as one: neither logged nor recorded, handed back as is. */
  refuse?: (outcome: RemediationOutcome) => Refusal | undefined;
}

export type RunResult<Refusal = never> =
  /** Another remediation holds the resource and will read it afresh: this one adds nothing. */
  | { kind: 'collapsed'; holder: string; queuedUntil?: string }
  /** Another remediation of the resource runs: the message was sent again to come back after it. */
  | { kind: 'waiting'; holder: string; retryAfterMs: number }
  | { kind: 'refused'; refusal: Refusal; outcome: RemediationOutcome }
  /** `redeliver`: every error was transient and nothing took the rest over; the delivery must come again. */
  | { kind: 'finished'; outcome: RemediationOutcome; redeliver: boolean };

/** Where the claim leaves this run: go on (holding the claim when one was taken), or stop here. */
type ClaimStep = { kind: 'go'; token?: ClaimToken } | Extract<RunResult, { kind: 'collapsed' | 'waiting' }>;

export async function runRemediation<Refusal = never>(ports: RemediationPorts, run: RemediationRun<Refusal>): Promise<RunResult<Refusal>> {
  const step = await takeClaim(ports, run);
  if (step.kind !== 'go') return step;
  const { token } = step;
  let outcome: RemediationOutcome;
  try {
    outcome = await ports.remediator.remediate(requestOf(ports, run));
    const refusal = run.refuse?.(outcome);
    if (refusal !== undefined) {
      await abandonClaim(ports.claims, token);
      return { kind: 'refused', refusal, outcome };
    }
    await handOff(ports, run, outcome);
    run.log.log(outcomeLogLevel(outcome), 'remediation.outcome', { ...run.logFields, ...summarizeOutcome(outcome) });
    if (run.record)
      await ports.outcomes.record(outcome, {
        trigger: run.trigger,
        requestId: run.remediationId,
        eventId: run.record.eventId,
        eventTime: run.record.eventTime,
      });
  } catch (e) {
    // The delivery comes again and reads the resource afresh, so the claim just ends.
    await abandonClaim(ports.claims, token);
    throw e;
  }
  if (token && ports.queue)
    await endClaim(ports.claims, token, { queue: ports.queue, handOffs: ports.handOffs }, outcome, run.log, ports.budgetMs);
  return { kind: 'finished', outcome, redeliver: isTransientOutcome(outcome) };
}

/** Claims only where a queue exists: without one, a remediation that found the resource held could not wait. */
async function takeClaim(ports: RemediationPorts, run: RemediationRun<unknown>): Promise<ClaimStep> {
  const { queue } = ports;
  if (!queue || !run.claim) return { kind: 'go' };
  if (run.claim.kind === 'event') {
    const claim = await claimForEvent(ports.claims, run.resourceId, run.remediationId, ports.budgetMs, run.claim.write);
    return claim.kind === 'held'
      ? { kind: 'go', token: claim.token }
      : { kind: 'collapsed', holder: claim.holder, queuedUntil: claim.queuedUntil };
  }
  const { message } = run.claim;
  const claim = await claimForQueue(ports.claims, run.resourceId, run.remediationId, ports.budgetMs, run.claim.carriesHandOff);
  if (claim.kind === 'held') return { kind: 'go', token: claim.token };
  if (claim.kind === 'collapsed') return { kind: 'collapsed', holder: claim.holder, queuedUntil: claim.queuedUntil };
  // The message goes back on the queue to come back when the holder is done.
  await queue.send(message, { visibilityDelaySeconds: visibilityDelaySeconds(claim.retryAfterMs) });
  return { kind: 'waiting', holder: claim.holder, retryAfterMs: claim.retryAfterMs };
}

function requestOf(ports: RemediationPorts, run: RemediationRun<unknown>): RemediationRequest {
  return {
    resourceId: run.resourceId,
    correlationId: run.correlationId,
    mode: run.mode,
    requestedProfiles: run.requestedProfiles,
    handOff: ports.queue && run.handOff ? { transientFailures: run.handOff.transientFailures } : undefined,
    resume: run.resume,
    startedAt: run.startedAt,
    deliveredAt: run.deliveredAt,
  };
}

/**
 * Queued before the outcome is logged or recorded: if the queue cannot take it, nothing says
 * `deferred`, the error propagates and the delivery comes again. The state goes to the ledger's
 * table, the message carries only its id (whoever can write the queue must not be able to forge it).
 */
async function handOff(ports: RemediationPorts, run: RemediationRun<unknown>, outcome: RemediationOutcome): Promise<void> {
  if (outcome.status !== 'deferred' || !outcome.deferral || !ports.queue || !run.handOff) return;
  const { origin } = run.handOff;
  const delayMs = outcome.deferral.retryAfterMs;
  const id = await ports.handOffs.save(
    {
      remediationId: run.remediationId,
      resourceId: outcome.resourceId,
      correlationId: outcome.correlationId,
      startedAt: outcome.startedAt,
      ...origin,
      resume: outcome.deferral.resume,
    },
    handOffTtlMs(delayMs),
  );
  const message = handOffMessage(outcome.resourceId, id, {
    correlationId: outcome.correlationId,
    sweepId: origin.sweepId,
    rule: origin.rule ?? outcome.rule,
  });
  await ports.queue.send(message, { visibilityDelaySeconds: visibilityDelaySeconds(delayMs) });
}

/**
 * Thrown by a trigger whose remediation ended in transient failures nothing else will carry on: the
 * Functions host then delivers the event or message again, and that delivery reads the resource afresh.
 */
/** Why a delivery folded into another remediation of the resource: queued (and when), or running now. */
export function collapsedReason(claim: { holder: string; queuedUntil?: string }): { reason: string; detail: string } {
  return claim.queuedUntil
    ? {
        reason: 'remediation-pending',
        detail: `remediation ${claim.holder} of this resource is queued until ${claim.queuedUntil} and will read it afresh`,
      }
    : {
        reason: 'remediation-running',
        detail: `remediation ${claim.holder} of this resource is running; it looks at the resource again when it ends`,
      };
}

export class RedeliveryRequestedError extends AutopilotError {
  constructor(message: string) {
    super('RedeliveryRequested', message);
  }
}
