import { RestError } from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';
import { fieldsOf } from '../outcomes/schema';
import {
  type ClaimResult,
  type ClaimRow,
  type ClaimToken,
  changedColumns,
  heldBy,
  isLive,
  type LaterWrite,
  laterWriteOf,
  nonEmpty,
} from './claims';
import {
  CLAIM_PARTITION,
  claimKey,
  EVENT_PARTITION,
  eventKey,
  newestFirstRowKey,
  REQUEST_PARTITION,
  requestKey,
  resourcePartition,
} from './keys';
import { assertSameRemediation } from './request-rows';
import { TableSweepMarks } from './sweep-marks';
import { TableHandOffStore } from './table-hand-offs';
import { type LedgerEntry, LedgerEntrySchema, type LedgerStore } from './types';

/** Table properties are scalars: the row's objects and arrays, as its schema types them, are stored as JSON text. */
const JSON_FIELDS: readonly string[] = fieldsOf(LedgerEntrySchema).filter((f) =>
  ['object', 'array'].includes(LedgerEntrySchema.properties[f].type as string),
);
/** Table string properties hold at most 64 KiB (32K UTF-16 characters). */
const MAX_PROPERTY_CHARS = 30_000;

function toEntity(entry: LedgerEntry, partitionKey: string, rowKey: string): Record<string, unknown> {
  const entity: Record<string, unknown> = { partitionKey, rowKey };
  for (const [k, v] of Object.entries(entry)) {
    if (v === undefined) continue;
    if (JSON_FIELDS.includes(k)) {
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
    entry[k] = JSON_FIELDS.includes(k) && typeof v === 'string' ? JSON.parse(v) : v;
  }
  return entry as unknown as LedgerEntry;
}

/** Rows written before keys were digests used the request id itself as the row key. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isStatus = (e: unknown, status: number) => e instanceof RestError && e.statusCode === status;

/**
 * The ledger in Azure Table storage. Each entry is written twice: under its resource's partition
 * (newest first, for "what happened to this resource") and under the request id (for "what did this
 * request do"). Handled Event Grid event ids get a row of their own, for de-duplication; hand-offs
 * waiting on the queue get theirs too (table-hand-offs.ts).
 */
export class TableLedger implements LedgerStore {
  private ready?: Promise<void>;
  readonly handOffs: TableHandOffStore;
  readonly sweepMarks: TableSweepMarks;

  constructor(private readonly table: TableClient) {
    this.handOffs = new TableHandOffStore(table, () => this.ensureTable());
    this.sweepMarks = new TableSweepMarks(table, () => this.ensureTable());
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async append(entry: LedgerEntry): Promise<void> {
    await this.ensureTable();
    // The request row first: it decides whether this entry may carry on an existing remediation's rows.
    await this.createOrCarryOn(toEntity(entry, REQUEST_PARTITION, requestKey(entry.requestId)), entry);
    // Keyed by the start, which a handed-off remediation keeps: its later rows update the earlier one.
    const rowKey = newestFirstRowKey(new Date(entry.startedAt), entry.requestId);
    await this.createOrCarryOn(toEntity(entry, resourcePartition(entry.resourceId), rowKey), entry);
  }

  /**
   * Created once; an existing row only updated by the remediation it records (same request, resource
   * and start), at the version read, so neither a forged request id nor a race replaces another's row.
   */
  private async createOrCarryOn(entity: Record<string, unknown>, entry: LedgerEntry): Promise<void> {
    const { partitionKey, rowKey } = entity as { partitionKey: string; rowKey: string };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.table.createEntity(entity as never);
        return;
      } catch (e) {
        if (!isStatus(e, 409)) throw e;
      }
      let current: Record<string, unknown> & { etag: string };
      try {
        current = await this.table.getEntity(partitionKey, rowKey);
      } catch (e) {
        if (isStatus(e, 404)) continue;
        throw e;
      }
      assertSameRemediation(fromEntity(current), entry);
      try {
        await this.table.updateEntity(entity as never, 'Replace', { etag: current.etag });
        return;
      } catch (e) {
        if (!isStatus(e, 412) && !isStatus(e, 404)) throw e;
      }
    }
    throw new Error(`ledger row ${entry.requestId} changed three times while it was being written`);
  }

  async byRequestId(requestId: string): Promise<LedgerEntry | undefined> {
    await this.ensureTable();
    const entry =
      (await this.entity(REQUEST_PARTITION, requestKey(requestId))) ??
      (GUID.test(requestId) ? await this.entity(REQUEST_PARTITION, requestId) : undefined);
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
    // Pages of at most `limit` rows ($top): the sweep's look at the newest outcome is one small read.
    for await (const page of this.table.listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 1000) })) {
      for (const entity of page) {
        const entry = fromEntity(entity);
        if (entry.resourceId.replace(/\/+$/, '').toLowerCase() !== wanted) continue;
        entries.push(entry);
        if (entries.length >= limit) return entries;
      }
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
    await this.table.upsertEntity(
      { partitionKey: EVENT_PARTITION, rowKey: eventKey(eventId), eventId: eventId.slice(0, MAX_PROPERTY_CHARS), requestId } as never,
      'Replace',
    );
  }

  async claim(resourceId: string, holder: string, ttlMs: number): Promise<ClaimResult> {
    await this.ensureTable();
    const rowKey = claimKey(resourceId);
    const row = () => ({
      partitionKey: CLAIM_PARTITION,
      rowKey,
      resourceId: resourceId.slice(0, MAX_PROPERTY_CHARS),
      holder,
      expiresAt: new Date(Date.now() + ttlMs).toISOString(),
    });
    // Each step is conditional (create, or replace at the version read): of two instances racing, one wins.
    // Table Storage answers an insert of an existing entity with 409 EntityAlreadyExists ("Table Storage
    // error codes", learn.microsoft.com/rest/api/storageservices/table-service-error-codes), and an update or
    // delete whose If-Match ETag is no longer the entity's with 412 ("Update Entity", .../update-entity2;
    // "Delete Entity", .../delete-entity1). Azurite, which the tests run against, enforces both.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const created = await this.table.createEntity(row());
        return { held: true, token: { resourceId, holder, etag: created.etag } };
      } catch (e) {
        if (!isStatus(e, 409)) throw e;
      }
      const current = await this.claimRow(rowKey);
      if (!current) continue;
      if (isLive(current, Date.now()) && current.holder !== holder) return heldBy(current);
      // Expired (its holder stopped without ending it): taken over, unless another instance did first.
      try {
        const updated = await this.table.updateEntity(row(), 'Replace', { etag: current.etag });
        return { held: true, token: { resourceId, holder, etag: updated.etag } };
      } catch (e) {
        if (!isStatus(e, 412) && !isStatus(e, 404)) throw e;
      }
    }
    const winner = await this.claimRow(rowKey);
    if (winner) return heldBy(winner);
    throw new Error(`the claim of ${resourceId} changed hands three times while it was being taken`);
  }

  async markChanged(resourceId: string, write: LaterWrite): Promise<boolean> {
    await this.ensureTable();
    const rowKey = claimKey(resourceId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.claimRow(rowKey);
      if (!current || !isLive(current, Date.now())) return false;
      try {
        // At the version read: if the holder ended its claim in between, this fails and is seen on the next read.
        await this.table.updateEntity({ partitionKey: CLAIM_PARTITION, rowKey, ...changedColumns(write) }, 'Merge', { etag: current.etag });
        return true;
      } catch (e) {
        if (isStatus(e, 404)) return false;
        if (!isStatus(e, 412)) throw e;
      }
    }
    return false;
  }

  async release(token: ClaimToken): Promise<LaterWrite | undefined> {
    await this.ensureTable();
    const rowKey = claimKey(token.resourceId);
    let etag = token.etag;
    let marked: LaterWrite | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        // Only at the version last seen: a changed mark made since is read before the row goes.
        await this.table.deleteEntity(CLAIM_PARTITION, rowKey, { etag });
        return marked;
      } catch (e) {
        if (isStatus(e, 404)) return marked;
        if (!isStatus(e, 412)) throw e;
      }
      const current = await this.claimRow(rowKey);
      // Gone, or taken over after it expired: what was marked since belongs to the new holder.
      if (!current || current.holder !== token.holder) return marked;
      marked = nonEmpty(laterWriteOf(current));
      etag = current.etag;
    }
    return marked;
  }

  async hold(token: ClaimToken, queuedUntil: string, expiresAt: string): Promise<void> {
    await this.ensureTable();
    const rowKey = claimKey(token.resourceId);
    const row = {
      partitionKey: CLAIM_PARTITION,
      rowKey,
      resourceId: token.resourceId.slice(0, MAX_PROPERTY_CHARS),
      holder: token.holder,
      expiresAt,
      queuedUntil,
    };
    let etag = token.etag;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        // Replaced whole: the marks go, since the queued remediation reads the resource afresh.
        await this.table.updateEntity(row, 'Replace', { etag });
        return;
      } catch (e) {
        if (!isStatus(e, 412) && !isStatus(e, 404)) throw e;
      }
      const current = await this.claimRow(rowKey);
      // Gone or taken over (it had expired): the queued remediation will claim when it runs.
      if (!current || current.holder !== token.holder) return;
      etag = current.etag;
    }
  }

  private async claimRow(rowKey: string): Promise<(ClaimRow & { etag: string }) | undefined> {
    try {
      return await this.table.getEntity<ClaimRow>(CLAIM_PARTITION, rowKey);
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }
}
