/**
 * Claims: which remediation is running for a resource right now, across every instance of the app.
 *
 * Event Grid delivers each write of a resource as its own event, at least once, and the app's instances
 * share no memory (on Flex Consumption the Event Grid and queue functions even scale apart). Without a
 * shared record, three writes of one web app during a deployment become three remediations on three
 * instances, each spending ARM's write budget on the same PATCH and the same grants. A claim is one
 * Table row per resource: the first remediation creates it, a later event finds it and only marks that
 * the resource changed again, and the holder, when it ends, looks at the resource once more if it was
 * marked (its GET may have come before that write). So duplicates collapse into one remediation and
 * none is lost.
 *
 * A claim expires (its holder died): it lives for the remediation's budget and a margin, shorter than
 * Event Grid's first redelivery (30 s delivery timeout + 10 s), so the dead holder's own event, which
 * Event Grid redelivers, finds it expired and remediates afresh.
 */

/** What a holder keeps to end its claim. */
export interface ClaimToken {
  readonly resourceId: string;
  readonly holder: string;
  /** The row's version when claimed: a changed mark since makes the conditional delete fail. */
  readonly etag?: string;
}

export type ClaimResult =
  | { held: true; token: ClaimToken }
  /** `queuedUntil`: the holder waits on the remediation queue until then (handed off); otherwise it is running. */
  | { held: false; holder: string; expiresAt: string; queuedUntil?: string };

/** The later write a duplicate event stood for, for the holder's follow-up. */
export interface LaterWrite {
  eventId?: string;
  eventTime?: string;
  correlationId?: string;
}

export interface ClaimStore {
  /** Claims the resource for `holder` for ttlMs, unless another live claim holds it (an expired one is taken over). */
  claim(resourceId: string, holder: string, ttlMs: number): Promise<ClaimResult>;
  /**
   * Tells the live claim of the resource that it was written again. False when no claim is live (it
   * ended or expired meanwhile): then nobody will look again, and the caller must remediate itself.
   */
  markChanged(resourceId: string, write: LaterWrite): Promise<boolean>;
  /** Ends the claim. Returns the later write marked while it was held, if any: the holder must look again. */
  release(token: ClaimToken): Promise<LaterWrite | undefined>;
  /**
   * Keeps the claim for a remediation handed off to the queue: held until `expiresAt`, waiting on the
   * queue until `queuedUntil`. Marks made so far are dropped: the queued remediation reads the resource
   * afresh when it carries on, and claims again under the same holder (its remediation id).
   */
  hold(token: ClaimToken, queuedUntil: string, expiresAt: string): Promise<void>;
}

/** The row as stored (Table storage columns). */
export interface ClaimRow {
  resourceId: string;
  holder: string;
  expiresAt: string;
  queuedUntil?: string;
  changedEventId?: string;
  changedEventTime?: string;
  changedCorrelationId?: string;
}

export function laterWriteOf(row: ClaimRow): LaterWrite | undefined {
  if (row.changedEventId === undefined && row.changedEventTime === undefined && row.changedCorrelationId === undefined) return undefined;
  return { eventId: row.changedEventId, eventTime: row.changedEventTime, correlationId: row.changedCorrelationId };
}

/** The changed mark as columns ('' for a field the event did not carry: a marked row always has one). */
export function changedColumns(write: LaterWrite): Pick<ClaimRow, 'changedEventId' | 'changedEventTime' | 'changedCorrelationId'> {
  return { changedEventId: write.eventId ?? '', changedEventTime: write.eventTime ?? '', changedCorrelationId: write.correlationId ?? '' };
}

export const isLive = (row: Pick<ClaimRow, 'expiresAt'>, now: number) => Date.parse(row.expiresAt) > now;

/** What a caller that does not hold the claim learns from its row. */
export function heldBy(row: ClaimRow): ClaimResult {
  return { held: false, holder: row.holder, expiresAt: row.expiresAt, ...(row.queuedUntil ? { queuedUntil: row.queuedUntil } : {}) };
}

/** Blank columns back to absent. */
export function nonEmpty(write: LaterWrite | undefined): LaterWrite | undefined {
  if (!write) return undefined;
  return { eventId: write.eventId || undefined, eventTime: write.eventTime || undefined, correlationId: write.correlationId || undefined };
}
