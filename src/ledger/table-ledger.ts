import { RestError } from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';
import { EVENT_PARTITION, eventKey, newestFirstRowKey, REQUEST_PARTITION, requestKey, resourcePartition } from './keys';
import type { LedgerEntry, LedgerStore } from './types';

const JSON_FIELDS = ['plan', 'actions', 'skipped', 'blockers', 'errors', 'grantee', 'deferral', 'workloadIdentities'] as const;
/** Table string properties hold at most 64 KiB (32K UTF-16 characters). */
const MAX_PROPERTY_CHARS = 30_000;

function toEntity(entry: LedgerEntry, partitionKey: string, rowKey: string): Record<string, unknown> {
  const entity: Record<string, unknown> = { partitionKey, rowKey };
  for (const [k, v] of Object.entries(entry)) {
    if (v === undefined) continue;
    if ((JSON_FIELDS as readonly string[]).includes(k)) {
      const text = JSON.stringify(v);
      entity[k] = text.length > MAX_PROPERTY_CHARS ? JSON.stringify({ truncated: true, chars: text.length }) : text;
    } else entity[k] = v;
  }
  return entity;
}

function fromEntity(entity: Record<string, unknown>): LedgerEntry {
  const entry: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entity)) {
    if (k === 'partitionKey' || k === 'rowKey' || k === 'etag' || k === 'timestamp' || k.startsWith('odata')) continue;
    entry[k] = (JSON_FIELDS as readonly string[]).includes(k) && typeof v === 'string' ? JSON.parse(v) : v;
  }
  return entry as unknown as LedgerEntry;
}

/** Rows written before keys were digests used the request id itself as the row key. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isStatus = (e: unknown, status: number) => e instanceof RestError && e.statusCode === status;

/**
 * The ledger in Azure Table storage. Each entry is written twice: under its resource's partition
 * (newest first, for "what happened to this resource") and under the request id (for "what did this
 * request do"). Handled Event Grid event ids get a row of their own, for de-duplication.
 */
export class TableLedger implements LedgerStore {
  private ready?: Promise<void>;

  constructor(private readonly table: TableClient) {}

  private ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async append(entry: LedgerEntry): Promise<void> {
    await this.ensureTable();
    // Keyed by the start, which a handed-off remediation keeps: its later rows replace the earlier one.
    const rowKey = newestFirstRowKey(new Date(entry.startedAt), entry.requestId);
    await Promise.all([
      this.table.upsertEntity(toEntity(entry, resourcePartition(entry.resourceId), rowKey) as never, 'Replace'),
      this.table.upsertEntity(toEntity(entry, REQUEST_PARTITION, requestKey(entry.requestId)) as never, 'Replace'),
    ]);
  }

  async byRequestId(requestId: string): Promise<LedgerEntry | undefined> {
    await this.ensureTable();
    const entry = (await this.entity(REQUEST_PARTITION, requestKey(requestId))) ?? (GUID.test(requestId) ? await this.entity(REQUEST_PARTITION, requestId) : undefined);
    // The row names its request: a row that does not is never returned as this request's.
    return entry && entry.requestId.toLowerCase() === requestId.toLowerCase() ? entry : undefined;
  }

  private async entity(partitionKey: string, rowKey: string): Promise<LedgerEntry | undefined> {
    try {
      return fromEntity(await this.table.getEntity(partitionKey, rowKey));
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  async byResourceId(resourceId: string, limit = 50): Promise<LedgerEntry[]> {
    await this.ensureTable();
    const entries: LedgerEntry[] = [];
    const filter = `PartitionKey eq '${resourcePartition(resourceId)}'`;
    const wanted = resourceId.replace(/\/+$/, '').toLowerCase();
    for await (const entity of this.table.listEntities({ queryOptions: { filter } })) {
      const entry = fromEntity(entity);
      if (entry.resourceId.replace(/\/+$/, '').toLowerCase() !== wanted) continue;
      entries.push(entry);
      if (entries.length >= limit) break;
    }
    return entries;
  }

  async hasHandledEvent(eventId: string): Promise<boolean> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<{ eventId?: string }>(EVENT_PARTITION, eventKey(eventId));
      return row.eventId === eventId.slice(0, MAX_PROPERTY_CHARS);
    } catch (e) {
      if (isStatus(e, 404)) return false;
      throw e;
    }
  }

  async markEventHandled(eventId: string, requestId: string): Promise<void> {
    await this.ensureTable();
    // The key is a digest; the event id itself is kept in a column (at most 32K characters per property).
    await this.table.upsertEntity({ partitionKey: EVENT_PARTITION, rowKey: eventKey(eventId), eventId: eventId.slice(0, MAX_PROPERTY_CHARS), requestId } as never, 'Replace');
  }
}
