import { AutopilotError } from '../errors';

/**
 * What one port call may spend, handed to every port call by the engine (no ambient state: the
 * deadline is an argument, so an adapter cannot see another remediation's, and a reader of the call
 * sees what bounds it).
 */
export interface CallBudget {
  /** Aborts at the remediation's deadline. */
  readonly signal: AbortSignal;
  /**
   * Epoch ms after which this remediation hands the rest to the queue rather than wait (set only when
   * its trigger can hand off). A port does not wait past it: a call whose turn at ARM's budget comes
   * later is not sent (TurnPastHandOffError), and a write still running then is not polled further
   * (WriteStillRunningError). The engine decides what that means.
   */
  readonly handOffAt?: number;
}

/** Where a long-running operation reports its progress: the RP's monitor URL and its style. */
export interface OperationMonitor {
  /** `async-operation`: a status document (Azure-AsyncOperation); `location`: 202 until the result is ready. */
  style: 'async-operation' | 'location';
  url: string;
}

/** Raised by a port when its write is still running at the call's hand-off time. */
export class WriteStillRunningError extends AutopilotError {
  constructor(
    readonly monitor: OperationMonitor,
    /** What the RP asked for (Retry-After) or the poll interval. */
    readonly retryAfterMs: number,
  ) {
    super('OperationStillRunning', 'the write is still running at the hand-off time');
  }
}

/**
 * Raised by a port (the ARM pacing, before a call is sent) when the call's turn at ARM's budget comes
 * later than its hand-off time: the call is not made; `waitMs` says when it could go.
 */
export class TurnPastHandOffError extends AutopilotError {
  constructor(readonly waitMs: number) {
    super(
      'ThrottledPastHandOff',
      `ARM's remaining budget lets this call go in ${Math.ceil(waitMs / 1000)} s, after this delivery's hand-off time`,
    );
  }
}

/** Whether waiting `waitMs` from now would go past the budget's hand-off time. */
export function waitPassesHandOff(budget: { handOffAt?: number }, waitMs: number, now = Date.now()): boolean {
  return budget.handOffAt !== undefined && now + waitMs > budget.handOffAt;
}
