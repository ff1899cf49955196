import { RestError } from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';
import { EVENT_PARTITION, newestFirstRowKey, REQUEST_PARTITION, resourcePartition, safeRowKey } from './keys';
import type { LedgerEntry, LedgerStore } from './types';

const JSON_FIELDS = ['plan', 'actions', 'skipped', 'errors', 'grantee', 'deferral'] as const;
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
      this.table.upsertEntity(toEntity(entry, REQUEST_PARTITION, safeRowKey(entry.requestId)) as never, 'Replace'),
    ]);
  }

  async byRequestId(requestId: string): Promise<LedgerEntry | undefined> {
    await this.ensureTable();
    try {
      return fromEntity(await this.table.getEntity(REQUEST_PARTITION, safeRowKey(requestId)));
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  async byResourceId(resourceId: string, limit = 50): Promise<LedgerEntry[]> {
    await this.ensureTable();
    const entries: LedgerEntry[] = [];
    const filter = `PartitionKey eq '${resourcePartition(resourceId)}'`;
    for await (const entity of this.table.listEntities({ queryOptions: { filter } })) {
      entries.push(fromEntity(entity));
      if (entries.length >= limit) break;
    }
    return entries;
  }

  async hasHandledEvent(eventId: string): Promise<boolean> {
    await this.ensureTable();
    try {
      await this.table.getEntity(EVENT_PARTITION, safeRowKey(eventId));
      return true;
    } catch (e) {
      if (isStatus(e, 404)) return false;
      throw e;
    }
  }

  async markEventHandled(eventId: string, requestId: string): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity({ partitionKey: EVENT_PARTITION, rowKey: safeRowKey(eventId), requestId } as never, 'Replace');
  }
}
