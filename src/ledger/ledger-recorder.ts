import { randomUUID } from 'node:crypto';
import type { RemediationOutcome } from '../engine/types';
import type { OutcomeContext, OutcomeRecorder } from '../outcomes/recorder';
import { outcomeFieldsBut, pickDefined } from '../outcomes/schema';
import { isTransientOutcome } from '../outcomes/summary';
import { LEDGER_OUTCOME_OMITS, type LedgerEntry, type LedgerStore } from './types';

const OUTCOME_FIELDS = outcomeFieldsBut(LEDGER_OUTCOME_OMITS);

/** The outcome's row: its fields as the ledger schema lists them, and the request's. */
export function toLedgerEntry(outcome: RemediationOutcome, context: OutcomeContext): LedgerEntry {
  const { deferral } = outcome;
  return {
    requestId: context.requestId ?? randomUUID(),
    trigger: context.trigger,
    ...(context.eventId !== undefined && { eventId: context.eventId }),
    ...(pickDefined(outcome, OUTCOME_FIELDS) as Omit<LedgerEntry, 'requestId' | 'trigger' | 'eventId' | 'deferral' | 'finishedAt'>),
    ...(deferral && {
      deferral: {
        reason: deferral.reason,
        detail: deferral.detail,
        retryAt: new Date(Date.now() + deferral.retryAfterMs).toISOString(),
        attempt: deferral.resume.attempt,
      },
    }),
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
