import { type Static, Type } from '@sinclair/typebox';
import { TRIGGER_KINDS } from '../outcomes/recorder';
import { DateTime, OutcomeSchema, StringEnum } from '../outcomes/schema';
import type { ClaimStore } from './claims';
import type { HandOffStore } from './hand-offs';
import type { SweepMarkStore } from './sweep-marks';

/**
 * Derived from the outcome schema: the row carries every outcome field but `resourceType` (rows have
 * never had it; adding it is a change of its own) and the deferral, which it holds as a time.
 */
export const LEDGER_OUTCOME_OMITS = ['resourceType', 'deferral'] as const;

export const LedgerDeferralSchema = Type.Object(
  { reason: Type.String(), detail: Type.String(), retryAt: DateTime(), attempt: Type.Integer() },
  { description: 'Set while the remediation is deferred: why, when the remediation queue carries on, and the hand-off count.' },
);
export type LedgerDeferral = Static<typeof LedgerDeferralSchema>;

/** One row of the audit ledger: what the automation did, to which principal, and why. Never a token. */
export const LedgerEntrySchema = Type.Composite([
  Type.Object({
    requestId: Type.String(),
    trigger: StringEnum(TRIGGER_KINDS),
    eventId: Type.Optional(Type.String()),
  }),
  Type.Omit(OutcomeSchema, LEDGER_OUTCOME_OMITS),
  Type.Object({ deferral: Type.Optional(LedgerDeferralSchema), finishedAt: DateTime() }),
]);
export type LedgerEntry = Static<typeof LedgerEntrySchema>;

export interface LedgerStore extends ClaimStore {
  /**
   * Writes the entry; an entry with the same requestId (a remediation handed off and carried on by
   * the queue) updates the earlier one, so each remediation is one row. Only the same remediation
   * may: an existing row for another resource or start is never replaced (LedgerRequestConflict).
   */
  append(entry: LedgerEntry): Promise<void>;
  /** Hand-offs waiting on the queue: what their next delivery carries on from (hand-offs.ts). */
  readonly handOffs: HandOffStore;
  /** What the sweep saw of each resource when it last queued it (sweep-marks.ts). */
  readonly sweepMarks: SweepMarkStore;
  byRequestId(requestId: string): Promise<LedgerEntry | undefined>;
  /** Newest first. */
  byResourceId(resourceId: string, limit?: number): Promise<LedgerEntry[]>;
  /** True if an event id was already handled to completion (Event Grid redelivers at least once). */
  hasHandledEvent(eventId: string): Promise<boolean>;
  markEventHandled(eventId: string, requestId: string): Promise<void>;
}
