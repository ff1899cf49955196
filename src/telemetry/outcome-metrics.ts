import type { RemediationOutcome } from '../engine/types';
import type { OutcomeContext, OutcomeRecorder } from '../outcomes/recorder';
import type { Telemetry } from './telemetry';

/**
 * Counts every outcome a trigger records (remediations, hand-offs, event-to-done), so the metrics
 * and the ledger count the same things. Recording is synchronous and cannot fail.
 */
export class OutcomeMetrics implements OutcomeRecorder {
  constructor(private readonly telemetry: Telemetry) {}

  async record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void> {
    this.telemetry.remediationOutcome(outcome, context.trigger, context.eventTime);
  }
}
