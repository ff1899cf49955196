import { isArmCallError, isAutopilotError } from '../errors';
import { isTransient, PartialApplyError } from './apply';
import type { OutcomeError, RemediationOutcome } from './types';

/**
 * What a remediation has found so far, as the outcome will say it. Each step of a run adds its own
 * findings to the ones before (a new value, never an edit), and the run ends with one outcome made of
 * them all.
 */
export type Findings = Partial<Omit<RemediationOutcome, 'correlationId' | 'resourceId' | 'startedAt' | 'durationMs'>>;

/** A step's result: a value for the next step, or the end of the run with what the outcome says. */
export type Step<T> = { kind: 'next'; value: T; findings?: Findings } | { kind: 'end'; findings: Findings };

export const next = <T>(value: T, findings?: Findings): Step<T> => ({ kind: 'next', value, ...(findings ? { findings } : {}) });
export const end = (findings: Findings): { kind: 'end'; findings: Findings } => ({ kind: 'end', findings });

/** Later findings win, except the lists that add up: what was skipped and what failed. */
export function addFindings(before: Findings, after: Findings | undefined): Findings {
  if (!after) return before;
  const merged: Findings = { ...before, ...after };
  if (before.skipped || after.skipped) merged.skipped = [...(before.skipped ?? []), ...(after.skipped ?? [])];
  if (before.errors || after.errors) merged.errors = [...(before.errors ?? []), ...(after.errors ?? [])];
  return merged;
}

/** The run's one outcome: its identity and timing, then everything found (a run that found no status failed). */
export function outcomeOf(request: { correlationId: string; resourceId: string }, started: number, findings: Findings): RemediationOutcome {
  return {
    correlationId: request.correlationId,
    resourceId: request.resourceId,
    ...findings,
    status: findings.status ?? 'failed',
    actions: findings.actions ?? [],
    skipped: findings.skipped ?? [],
    errors: findings.errors ?? [],
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

export function toOutcomeError(e: unknown): OutcomeError {
  if (e instanceof PartialApplyError) return { code: e.code, message: e.message, transient: isTransient(e) };
  if (isArmCallError(e) && e.permission) return { code: e.code, message: e.message, transient: isTransient(e), permission: e.permission };
  if (isAutopilotError(e)) return { code: e.code, message: e.message, transient: isTransient(e) };
  return { code: 'InternalError', message: e instanceof Error ? e.message : String(e), transient: false };
}
