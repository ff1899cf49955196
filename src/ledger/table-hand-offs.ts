import { RestError } from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';
import {
  checkStored,
  HAND_OFF_ID,
  type HandOffCheck,
  type HandOffLease,
  type HandOffState,
  type HandOffStore,
  isStoredHandOff,
  newHandOffId,
  type StoredHandOff,
  storedHandOff,
} from './hand-offs';
import { digest, HAND_OFF_PARTITION } from './keys';

/** Table string properties hold at most 64 KiB (32K UTF-16 characters): the state is split over columns. */
const CHUNK_CHARS = 30_000;
/** An entity holds at most 1 MiB: 16 chunks stay well inside it. */
const MAX_CHUNKS = 16;

const isStatus = (e: unknown, status: number) => e instanceof RestError && e.statusCode === status;
const handOffKey = (id: string) => `hof-${digest(id)}`;

/**
 * Hand-offs in the ledger's table (partition `handoffs`), one row per hand-off, created once under
 * a fresh id (create-only: an existing row is never replaced) and deleted, at the version read, once
 * the delivery that carried it on is done.
 */
export class TableHandOffStore implements HandOffStore {
  constructor(
    private readonly table: TableClient,
    private readonly ensureTable: () => Promise<void>,
  ) {}

  async save(state: HandOffState, ttlMs: number): Promise<string> {
    await this.ensureTable();
    const id = newHandOffId();
    const text = JSON.stringify(storedHandOff(state, ttlMs));
    const chunks = Math.ceil(text.length / CHUNK_CHARS);
    if (chunks > MAX_CHUNKS)
      throw new Error(`the hand-off of ${state.resourceId} is ${text.length} characters, more than a table row holds`);
    const entity: Record<string, unknown> = { partitionKey: HAND_OFF_PARTITION, rowKey: handOffKey(id), chunks };
    for (let i = 0; i < chunks; i++) entity[`state${i}`] = text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
    await this.table.createEntity(entity as never);
    return id;
  }

  async check(id: string, resourceId: string, now: number): Promise<HandOffCheck> {
    if (!HAND_OFF_ID.test(id)) return checkStored(undefined, resourceId, now, { id, etag: '' });
    await this.ensureTable();
    let entity: Record<string, unknown> & { etag: string };
    try {
      entity = await this.table.getEntity(HAND_OFF_PARTITION, handOffKey(id));
    } catch (e) {
      if (isStatus(e, 404)) return checkStored(undefined, resourceId, now, { id, etag: '' });
      throw e;
    }
    const stored = parseState(entity);
    if (!stored)
      return { kind: 'rejected', reason: 'unreadable', detail: 'the stored hand-off with this id is not one this version reads' };
    return checkStored(stored, resourceId, now, { id, etag: entity.etag });
  }

  async consume(lease: HandOffLease): Promise<void> {
    await this.ensureTable();
    try {
      // At the version read: a row changed since is not this delivery's to end.
      await this.table.deleteEntity(HAND_OFF_PARTITION, handOffKey(lease.id), { etag: lease.etag });
    } catch (e) {
      if (!isStatus(e, 404) && !isStatus(e, 412)) throw e;
    }
  }
}

function parseState(entity: Record<string, unknown>): StoredHandOff | undefined {
  const chunks = entity.chunks;
  if (!Number.isInteger(chunks) || (chunks as number) < 1 || (chunks as number) > MAX_CHUNKS) return undefined;
  let text = '';
  for (let i = 0; i < (chunks as number); i++) {
    const part = entity[`state${i}`];
    if (typeof part !== 'string') return undefined;
    text += part;
  }
  try {
    const value: unknown = JSON.parse(text);
    return isStoredHandOff(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
