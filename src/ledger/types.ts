import type { ClaimStore } from './claims';
import type { TriggerKind } from '../outcomes/recorder';
import type { OutcomeStatus, PrincipalDescription, WorkloadIdentityResult } from '../engine/types';

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
  /** AKS workload identity: each service account's identity, clientId (for its annotation) and credential. */
  workloadIdentities?: WorkloadIdentityResult[];
  identityBefore?: string;
  identityAfter?: string;
  plan?: unknown;
  actions: unknown[];
  skipped: unknown[];
  /** Why a `blocked` or `pending` remediation is not done, and what a person can do. */
  blockers?: unknown[];
  errors: unknown[];
  /** While `deferred`: why, when the queue carries on (ISO), and the hand-off count. */
  deferral?: LedgerDeferral;
  durationMs: number;
  startedAt: string;
  finishedAt: string;
}

export interface LedgerDeferral {
  reason: string;
  detail: string;
  retryAt: string;
  attempt: number;
}

export interface LedgerStore extends ClaimStore {
  /**
   * Writes the entry; an entry with the same requestId (a remediation handed off and carried on by
   * the queue) replaces the earlier one, so each remediation is one row.
   */
  append(entry: LedgerEntry): Promise<void>;
  byRequestId(requestId: string): Promise<LedgerEntry | undefined>;
  /** Newest first. */
  byResourceId(resourceId: string, limit?: number): Promise<LedgerEntry[]>;
  /** True if an event id was already handled to completion (Event Grid redelivers at least once). */
  hasHandledEvent(eventId: string): Promise<boolean>;
  markEventHandled(eventId: string, requestId: string): Promise<void>;
}
