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
import { MemoryHandOffStore } from './hand-offs';
import { claimKey, eventKey, requestKey, resourcePartition } from './keys';
import { assertSameRemediation } from './request-rows';
import { MemorySweepMarks } from './sweep-marks';
import type { LedgerEntry, LedgerStore } from './types';

/**
 * The ledger for the sandbox and one-shot CLI runs: same contract, held in memory, keyed the way
 * the table ledger is (keys.ts), so both find, and keep apart, exactly the same ids.
 */
export class MemoryLedger implements LedgerStore {
  private readonly byResource = new Map<string, LedgerEntry[]>();
  private readonly byRequest = new Map<string, LedgerEntry>();
  private readonly events = new Map<string, string>();
  private readonly claims = new Map<string, ClaimRow & { etag: string }>();
  private version = 0;

  readonly handOffs = new MemoryHandOffStore();
  readonly sweepMarks = new MemorySweepMarks();

  async append(entry: LedgerEntry): Promise<void> {
    // A handed-off remediation appends again under the same request id: it updates its row, as the
    // table ledger does, and only its own (same resource and start).
    const copy = structuredClone(entry);
    const partition = resourcePartition(entry.resourceId);
    const previous = this.byRequest.get(requestKey(entry.requestId));
    if (previous) assertSameRemediation(previous, entry);
    const others = (this.byResource.get(partition) ?? []).filter((e) => e !== previous);
    this.byResource.set(partition, [copy, ...others]);
    this.byRequest.set(requestKey(entry.requestId), copy);
  }

  async byRequestId(requestId: string): Promise<LedgerEntry | undefined> {
    const entry = this.byRequest.get(requestKey(requestId));
    return entry && structuredClone(entry);
  }

  async byResourceId(resourceId: string, limit = 50): Promise<LedgerEntry[]> {
    return (this.byResource.get(resourcePartition(resourceId)) ?? []).slice(0, limit).map((e) => structuredClone(e));
  }

  async hasHandledEvent(eventId: string): Promise<boolean> {
    return this.events.get(eventKey(eventId)) === eventId;
  }

  async markEventHandled(eventId: string, _requestId: string): Promise<void> {
    this.events.set(eventKey(eventId), eventId);
  }

  async claim(resourceId: string, holder: string, ttlMs: number): Promise<ClaimResult> {
    const key = claimKey(resourceId);
    const current = this.claims.get(key);
    if (current && isLive(current, Date.now()) && current.holder !== holder) return heldBy(current);
    const etag = String(++this.version);
    this.claims.set(key, { resourceId, holder, expiresAt: new Date(Date.now() + ttlMs).toISOString(), etag });
    return { held: true, token: { resourceId, holder, etag } };
  }

  async markChanged(resourceId: string, write: LaterWrite): Promise<boolean> {
    const current = this.claims.get(claimKey(resourceId));
    if (!current || !isLive(current, Date.now())) return false;
    this.claims.set(claimKey(resourceId), { ...current, ...changedColumns(write), etag: String(++this.version) });
    return true;
  }

  async release(token: ClaimToken): Promise<LaterWrite | undefined> {
    const key = claimKey(token.resourceId);
    const current = this.claims.get(key);
    if (!current || current.holder !== token.holder) return undefined;
    this.claims.delete(key);
    return current.etag === token.etag ? undefined : nonEmpty(laterWriteOf(current));
  }

  async hold(token: ClaimToken, queuedUntil: string, expiresAt: string): Promise<void> {
    const key = claimKey(token.resourceId);
    const current = this.claims.get(key);
    if (!current || current.holder !== token.holder) return;
    this.claims.set(key, { resourceId: token.resourceId, holder: token.holder, expiresAt, queuedUntil, etag: String(++this.version) });
  }
}
