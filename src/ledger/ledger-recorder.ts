import { randomUUID } from 'node:crypto';
import { isTransientOutcome } from '../outcomes/summary';
import type { OutcomeContext, OutcomeRecorder } from '../outcomes/recorder';
import type { RemediationOutcome } from '../engine/types';
import type { LedgerEntry, LedgerStore } from './types';

export function toLedgerEntry(outcome: RemediationOutcome, context: OutcomeContext): LedgerEntry {
  return {
    requestId: context.requestId ?? randomUUID(),
    resourceId: outcome.resourceId,
    trigger: context.trigger,
    status: outcome.status,
    correlationId: outcome.correlationId,
    eventId: context.eventId,
    rule: outcome.rule,
    mode: outcome.mode,
    principalId: outcome.principalId,
    grantee: outcome.grantee,
    ...(outcome.workloadIdentities ? { workloadIdentities: outcome.workloadIdentities } : {}),
    identityBefore: outcome.identityBefore,
    identityAfter: outcome.identityAfter,
    plan: outcome.plan,
    actions: outcome.actions,
    skipped: outcome.skipped,
    blockers: outcome.blockers,
    errors: outcome.errors,
    deferral: outcome.deferral && {
      reason: outcome.deferral.reason,
      detail: outcome.deferral.detail,
      retryAt: new Date(Date.now() + outcome.deferral.retryAfterMs).toISOString(),
      attempt: outcome.deferral.resume.attempt,
    },
    durationMs: outcome.durationMs,
    startedAt: outcome.startedAt,
    finishedAt: new Date(Date.parse(outcome.startedAt) + outcome.durationMs).toISOString(),
  };
}

/** Writes every outcome to the ledger; an event whose work is finished is marked handled. */
export class LedgerRecorder implements OutcomeRecorder {
  constructor(private readonly ledger: LedgerStore) {}

  async record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void> {
    const entry = toLedgerEntry(outcome, context);
    await this.ledger.append(entry);
    // A transient failure will be redelivered and must run again; anything else is finished.
    if (context.eventId && !isTransientOutcome(outcome)) await this.ledger.markEventHandled(context.eventId, entry.requestId);
  }
}
