import { RestError } from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';
import { SWEEP_MARK_PARTITION, sweepMarkKey } from './keys';

/**
 * What a compliance sweep saw of a resource when it last queued it: the digest of its Resource Graph
 * row and of the rules. The sweep writes it itself (never from a queue message), and compares it on
 * a later run to tell whether a resource whose remediation ended `blocked` changed since.
 */
export interface SweepMark {
  resourceId: string;
  /** SHA-256 of the sweep's Resource Graph row (identity, tags, the projected properties...). */
  fingerprint: string;
  /** SHA-256 of the rules the sweep ran under. */
  rulesStamp: string;
  /** When the sweep queued the resource (ISO time). */
  queuedAt: string;
  sweepId: string;
}

export interface SweepMarkStore {
  get(resourceId: string): Promise<SweepMark | undefined>;
  /** Replaces the resource's mark: only the last queueing matters. */
  put(mark: SweepMark): Promise<void>;
}

const isNotFound = (e: unknown) => e instanceof RestError && e.statusCode === 404;
const sameResource = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
/** Table string properties hold at most 32K characters; a longer id is not one ARM makes. */
const MAX_ID_CHARS = 30_000;

/** Sweep marks in the ledger's table (partition `sweepmarks`), one row per resource, keyed by the digest of its id. */
export class TableSweepMarks implements SweepMarkStore {
  constructor(
    private readonly table: TableClient,
    private readonly ensureTable: () => Promise<void>,
  ) {}

  async get(resourceId: string): Promise<SweepMark | undefined> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<SweepMark>(SWEEP_MARK_PARTITION, sweepMarkKey(resourceId));
      // The row names its resource: one that does not is never taken for this resource's.
      if (typeof row.resourceId !== 'string' || !sameResource(row.resourceId, resourceId)) return undefined;
      return {
        resourceId: row.resourceId,
        fingerprint: row.fingerprint,
        rulesStamp: row.rulesStamp,
        queuedAt: row.queuedAt,
        sweepId: row.sweepId,
      };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async put(mark: SweepMark): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity(
      {
        partitionKey: SWEEP_MARK_PARTITION,
        rowKey: sweepMarkKey(mark.resourceId),
        ...mark,
        resourceId: mark.resourceId.slice(0, MAX_ID_CHARS),
      },
      'Replace',
    );
  }
}

export class MemorySweepMarks implements SweepMarkStore {
  private readonly marks = new Map<string, SweepMark>();
  async get(resourceId: string): Promise<SweepMark | undefined> {
    const mark = this.marks.get(sweepMarkKey(resourceId));
    return mark && { ...mark };
  }
  async put(mark: SweepMark): Promise<void> {
    this.marks.set(sweepMarkKey(mark.resourceId), { ...mark });
  }
}
