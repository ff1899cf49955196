import type { LedgerEntry, LedgerStore } from './types';

/**
 * A remediation of the resource that is deferred and not yet picked up again: its queue message is
 * still invisible until `retryAt`. Another event for the resource can collapse into it, because the
 * queued remediation reads the resource afresh when it carries on. One that is due (or past due, its
 * message perhaps lost) is not trusted: the event is then remediated on its own.
 */
export async function pendingRemediation(ledger: LedgerStore, resourceId: string, now = Date.now()): Promise<LedgerEntry | undefined> {
  const recent = await ledger.byResourceId(resourceId, 5);
  return recent.find((e) => e.status === 'deferred' && e.deferral !== undefined && Date.parse(e.deferral.retryAt) > now);
}
