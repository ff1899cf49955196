import { AutopilotError } from '../errors';
import type { LedgerEntry } from './types';

/**
 * A remediation's ledger rows are created once and afterwards only carried on by the same
 * remediation: the same request id, the same resource and the same start. A request id reaching the
 * ledger with another resource or start (a forged or confused id) would otherwise replace another
 * remediation's record of what the app did.
 */
export class LedgerRequestConflictError extends AutopilotError {
  constructor(requestId: string, why: string) {
    super('LedgerRequestConflict', `ledger row ${requestId} belongs to another remediation (${why}); it is not replaced`);
  }
}

const normalised = (id: string) => id.replace(/\/+$/, '').toLowerCase();

/** Throws unless `next` carries on the remediation `existing` records. */
export function assertSameRemediation(existing: LedgerEntry, next: LedgerEntry): void {
  if (existing.requestId.toLowerCase() !== next.requestId.toLowerCase())
    throw new LedgerRequestConflictError(next.requestId, 'another request id under the same key');
  if (normalised(existing.resourceId) !== normalised(next.resourceId))
    throw new LedgerRequestConflictError(next.requestId, 'it is bound to another resource');
  if (Date.parse(existing.startedAt) !== Date.parse(next.startedAt))
    throw new LedgerRequestConflictError(next.requestId, `it started at ${existing.startedAt}, not ${next.startedAt}`);
}
