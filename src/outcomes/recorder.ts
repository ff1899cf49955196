import type { RemediationOutcome } from '../engine/types';

export const TRIGGER_KINDS = ['eventGrid', 'http', 'queue', 'timer', 'cli'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export interface OutcomeContext {
  trigger: TriggerKind;
  /** The HTTP request id, if any. */
  requestId?: string;
  /** The Event Grid event id, if any (used to de-duplicate redeliveries). */
  eventId?: string;
  /**
   * When the work began, for the event-to-done metric (ISO): the event's eventTime (carried through
   * hand-offs), or when the request or queue message arrived when there was no event.
   */
  eventTime?: string;
}

/**
 * Where every outcome goes after it is logged: the audit ledger and the outcome events. Every trigger
 * calls it, so nothing the automation does goes unrecorded.
 */
export interface OutcomeRecorder {
  record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void>;
}
