import { abortableSleep } from '../abortable-sleep';
import { AutopilotError } from '../errors';
import type { CallBudget } from './call-budget';

export interface BackoffSettings {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up after this many attempts in all. */
  maxAttempts: number;
}

/** The remediation's budget ran out; the work may succeed on a later delivery. */
export class DeadlineExceededError extends AutopilotError {
  constructor(what: string, cause?: unknown) {
    super('DeadlineExceeded', `${what} did not finish within the remediation's time budget`, { cause });
  }
}

/**
 * Retries what the SDK does not: replication delays (PrincipalNotFound) and "another operation in
 * progress" conflicts. Bounded by attempts and by the budget's deadline, with exponential backoff
 * and jitter so parallel remediations do not retry in lockstep.
 */
export async function withBackoff<T>(
  what: string,
  attempt: () => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  settings: BackoffSettings,
  budget: CallBudget,
  onRetry?: (error: unknown, attemptNumber: number, delayMs: number) => void,
): Promise<T> {
  let delay = settings.initialDelayMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (budget.signal.aborted) throw new DeadlineExceededError(what, e);
      if (!shouldRetry(e) || n >= settings.maxAttempts) throw e;
      const wait = Math.min(settings.maxDelayMs, delay) * (0.8 + Math.random() * 0.4);
      onRetry?.(e, n, wait);
      try {
        await abortableSleep(wait, budget.signal);
      } catch {
        throw new DeadlineExceededError(what, e);
      }
      delay *= 2;
    }
  }
}
