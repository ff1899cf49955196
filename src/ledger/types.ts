import type { TriggerKind } from '../outcomes/recorder';
import type { OutcomeStatus, PrincipalDescription } from '../engine/types';

/** One row of the audit ledger: what the automation did, to which principal, and why. Never a token. */
export interface LedgerEntry {
  requestId: string;
  resourceId: string;
  trigger: TriggerKind;
  status: OutcomeStatus;
  correlationId: string;
  eventId?: string;
  rule?: string;
  mode?: string;
  principalId?: string;
  /** The principal that holds (or would hold) the roles: its role for the workload, objectId, clientId. */
  grantee?: PrincipalDescription;
  identityBefore?: string;
  identityAfter?: string;
  plan?: unknown;
  actions: unknown[];
  skipped: unknown[];
  errors: unknown[];
  durationMs: number;
  startedAt: string;
  finishedAt: string;
}

export interface LedgerStore {
  append(entry: LedgerEntry): Promise<void>;
  byRequestId(requestId: string): Promise<LedgerEntry | undefined>;
  /** Newest first. */
  byResourceId(resourceId: string, limit?: number): Promise<LedgerEntry[]>;
  /** True if an event id was already handled to completion (Event Grid redelivers at least once). */
  hasHandledEvent(eventId: string): Promise<boolean>;
  markEventHandled(eventId: string, requestId: string): Promise<void>;
}
