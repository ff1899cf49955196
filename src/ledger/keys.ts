import { createHash } from 'node:crypto';

/**
 * Table keys may not contain '/', '\\', '#' or '?', and ARM ids are case-insensitive: a resource's
 * partition is the SHA-256 of its lower-cased id.
 */
export function resourcePartition(resourceId: string): string {
  return `res-${createHash('sha256').update(resourceId.replace(/\/+$/, '').toLowerCase()).digest('hex')}`;
}

/** Newest first within a partition: table rows sort by RowKey ascending. */
export function newestFirstRowKey(at: Date, requestId: string): string {
  return `${String(9_999_999_999_999 - at.getTime()).padStart(13, '0')}_${requestId}`;
}

export const REQUEST_PARTITION = 'requests';
export const EVENT_PARTITION = 'events';

/** Event ids come from outside: keep only characters a RowKey may hold. */
export function safeRowKey(value: string): string {
  return value.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 512);
}
