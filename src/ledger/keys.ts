import { createHash } from 'node:crypto';

/**
 * Table storage keys may not contain '/', '\\', '#', '?' or control characters, and are limited to
 * 1 KiB; event ids, request ids and resource ids come from outside. Every key derived from one is
 * therefore a SHA-256 digest of it (fixed length, only hex), so two different ids never share a key
 * (a character filter or a truncation would make `a/b` and `a_b` one row). The original text is kept
 * in a column of the row.
 */
export function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A resource's partition: the digest of its lower-cased id, since ARM ids are case-insensitive. */
export function resourcePartition(resourceId: string): string {
  return `res-${digest(resourceId.replace(/\/+$/, '').toLowerCase())}`;
}

/** Newest first within a partition: table rows sort by RowKey ascending. */
export function newestFirstRowKey(at: Date, requestId: string): string {
  return `${String(9_999_999_999_999 - at.getTime()).padStart(13, '0')}_${requestKey(requestId)}`;
}

/** Request ids are GUIDs the product makes; compared without regard to case. */
export function requestKey(requestId: string): string {
  return `req-${digest(requestId.toLowerCase())}`;
}

/** Event ids are compared exactly: Event Grid does not define them as case-insensitive. */
export function eventKey(eventId: string): string {
  return `evt-${digest(eventId)}`;
}

export const REQUEST_PARTITION = 'requests';
export const EVENT_PARTITION = 'events';

/** Hand-offs waiting on the queue (hand-offs.ts), one row per hand-off, keyed by the digest of its id. */
export const HAND_OFF_PARTITION = 'handoffs';

/** Running remediations' claims, one row per resource (claims.ts). */
export const CLAIM_PARTITION = 'claims';

/** A resource's claim row: the digest of its lower-cased id, like its partition. */
export function claimKey(resourceId: string): string {
  return `clm-${digest(resourceId.replace(/\/+$/, '').toLowerCase())}`;
}

/** What the sweep saw of a resource when it last queued it (sweep-marks.ts), one row per resource. */
export const SWEEP_MARK_PARTITION = 'sweepmarks';

/** A resource's sweep mark row: the digest of its lower-cased id, like its partition. */
export function sweepMarkKey(resourceId: string): string {
  return `swm-${digest(resourceId.replace(/\/+$/, '').toLowerCase())}`;
}
