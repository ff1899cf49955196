import type { FindingAction, FindingReason, SweepFinding, SweepReport, SweepTotals } from './report';

/**
 * The CLI's `sweep` fixes what it found itself (through the same engine as the queue trigger), after
 * the scan wrote its report with those findings `queued`. This folds each fix's result back into the
 * report, so the table, the JSON, the Markdown and the HTML say what happened (fixed, blocked, pending,
 * failed, not applied) with the outcome's codes and remedies, never "queued" for a fix already made.
 */

/** One fix the CLI ran (or held for confirmation): the outcome's status and why it is not done. */
export interface FixResult {
  resourceId: string;
  /** The outcome's status, or `not-applied` when the fix needed a confirmation it did not get. */
  status: string;
  /** The outcome's blockers (blocked, pending) and errors, each with its remedy when it has one. */
  reasons: FindingReason[];
}

/** The outcome statuses as a finding's action; a status with no entry leaves the finding queued. */
const ACTION_OF_STATUS: Record<string, FindingAction> = {
  remediated: 'fixed',
  // Fixed in between (by the queue trigger or a person): nothing left to do, but nothing this run did.
  compliant: 'reported',
  gone: 'reported',
  skipped: 'reported',
  planned: 'reported',
  blocked: 'blocked',
  pending: 'pending',
  failed: 'failed',
  'not-applied': 'not-applied',
  deferred: 'queued',
};

/** The totals field each action is counted in. */
const COUNTED_IN: Record<FindingAction, keyof Omit<SweepTotals, 'skipped'>> = {
  queued: 'queued',
  fixed: 'fixed',
  reported: 'reported',
  blocked: 'blocked',
  pending: 'pending',
  failed: 'failed',
  'not-applied': 'notApplied',
};

export function actionOfStatus(status: string): FindingAction {
  return ACTION_OF_STATUS[status] ?? 'queued';
}

/** The report with each fixed finding's action and reasons, and the totals counted apart (fixed, queued, blocked, pending). */
export function withFixes(report: SweepReport, fixes: readonly FixResult[]): SweepReport {
  if (fixes.length === 0) return report;
  const totals: SweepTotals = { ...report.totals, skipped: { ...report.totals.skipped } };
  const byId = new Map<string, FixResult>();
  for (const fix of fixes) {
    byId.set(fix.resourceId.toLowerCase(), fix);
    const action = actionOfStatus(fix.status);
    // Each fix was a queued finding (the CLI's local queue holds exactly those).
    totals.queued--;
    totals[COUNTED_IN[action]]++;
  }
  const findings = report.findings.map((f): SweepFinding => {
    const fix = f.action === 'queued' ? byId.get(f.resourceId.toLowerCase()) : undefined;
    if (!fix) return f;
    return { ...f, action: actionOfStatus(fix.status), ...(fix.reasons.length > 0 && { reasons: fix.reasons }) };
  });
  return { ...report, totals, findings };
}
