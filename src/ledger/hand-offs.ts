import { randomBytes } from 'node:crypto';
import type { ResumePoint } from '../engine/hand-off';

/**
 * Hand-off state, kept where only the app writes (the ledger's table), never in the queue message.
 *
 * Whoever can write to the remediation queue controls every byte of a message, so a message that
 * carried its own resume point could claim grants the app never made (`resume.actions`, recorded in
 * the ledger as done), reset the hand-off count (`attempt`) or move the start of the authorization
 * window into the future (`authorizationFailingSince`), and could name any remediation id, replacing
 * another resource's ledger row. Instead the app stores what the next delivery carries on from under
 * a fresh random id, and the message carries only that id (and the resource, which must match). A
 * message whose id names no stored hand-off, another resource's, or one already carried on or
 * expired, is no more than a request to look at its resource afresh.
 */

/** What a hand-off carries on: the remediation, where it came from, and where it stopped. */
export interface HandOffState {
  /** The remediation's ledger id: every delivery of it updates one ledger row. */
  remediationId: string;
  /** The resource it belongs to; a message for any other resource does not get it. */
  resourceId: string;
  correlationId: string;
  /** When the remediation began (ISO): its ledger row is keyed by it. Absent: a new remediation (a follow-up). */
  startedAt?: string;
  /** The Event Grid event it came from, marked handled when the work is done. */
  eventId?: string;
  /** That event's eventTime (ISO), so event-to-done is measured from the event across hand-offs. */
  eventTime?: string;
  sweepId?: string;
  rule?: string;
  problems?: string[];
  /** Where a handed-off remediation carries on; absent for a fresh remediation (a follow-up). */
  resume?: ResumePoint;
}

export interface StoredHandOff extends HandOffState {
  createdAt: string;
  /** After this it is refused: its message outlived the queue's own message lifetime. */
  expiresAt: string;
}

/** Proof of the stored hand-off a delivery carries on, to consume it once that delivery is done. */
export interface HandOffLease {
  id: string;
  etag: string;
}

export type HandOffRejection = 'unknown' | 'other-resource' | 'expired' | 'unreadable';

export type HandOffCheck =
  | { kind: 'verified'; handOff: StoredHandOff; lease: HandOffLease }
  | { kind: 'rejected'; reason: HandOffRejection; detail: string };

export interface HandOffStore {
  /** Stores what the next delivery carries on from; returns the id its queue message carries. */
  save(state: HandOffState, ttlMs: number): Promise<string>;
  /** The stored hand-off a message names, if the app stored it for that resource and it is still current. */
  check(id: string, resourceId: string, now: number): Promise<HandOffCheck>;
  /** The delivery that carried it on is done: the id names nothing any more (a replayed message is refused). */
  consume(lease: HandOffLease): Promise<void>;
}

/** 128 random bits, hex: a message cannot name a hand-off it was not given. */
export function newHandOffId(): string {
  return randomBytes(16).toString('hex');
}

export const HAND_OFF_ID = /^[0-9a-f]{32}$/;

const sameResource = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

/** The checks on read: the stored row is this resource's and has not expired. */
export function checkStored(stored: StoredHandOff | undefined, resourceId: string, now: number, lease: HandOffLease): HandOffCheck {
  if (!stored)
    return { kind: 'rejected', reason: 'unknown', detail: 'no current hand-off has this id (never stored, or carried on already)' };
  if (!sameResource(stored.resourceId, resourceId))
    return { kind: 'rejected', reason: 'other-resource', detail: 'the hand-off with this id belongs to another resource' };
  if (!(Date.parse(stored.expiresAt) > now))
    return { kind: 'rejected', reason: 'expired', detail: `the hand-off with this id expired at ${stored.expiresAt}` };
  return { kind: 'verified', handOff: stored, lease };
}

export function storedHandOff(state: HandOffState, ttlMs: number, now = Date.now()): StoredHandOff {
  return { ...structuredClone(state), createdAt: new Date(now).toISOString(), expiresAt: new Date(now + ttlMs).toISOString() };
}

/** The read side of a stored row: written by the app, still checked, since a bad row must not crash a delivery. */
export function isStoredHandOff(value: unknown): value is StoredHandOff {
  const v = value as Partial<StoredHandOff> | null;
  const resume = v?.resume as Partial<ResumePoint> | undefined;
  return (
    !!v &&
    typeof v === 'object' &&
    typeof v.remediationId === 'string' &&
    typeof v.resourceId === 'string' &&
    typeof v.correlationId === 'string' &&
    typeof v.expiresAt === 'string' &&
    (resume === undefined ||
      (Number.isInteger(resume.attempt) &&
        Array.isArray(resume.actions) &&
        resume.actions.every((a) => a && typeof a === 'object' && typeof (a as { kind?: unknown }).kind === 'string') &&
        typeof resume.principalIsNew === 'boolean'))
  );
}

/** Hand-offs in memory, for the sandbox and one-shot CLI runs: the same contract as the table's. */
export class MemoryHandOffStore implements HandOffStore {
  private readonly rows = new Map<string, { stored: StoredHandOff; etag: string }>();
  private version = 0;

  async save(state: HandOffState, ttlMs: number): Promise<string> {
    const id = newHandOffId();
    this.rows.set(id, { stored: storedHandOff(state, ttlMs), etag: String(++this.version) });
    return id;
  }

  async check(id: string, resourceId: string, now: number): Promise<HandOffCheck> {
    const row = HAND_OFF_ID.test(id) ? this.rows.get(id) : undefined;
    return checkStored(row && structuredClone(row.stored), resourceId, now, { id, etag: row?.etag ?? '' });
  }

  async consume(lease: HandOffLease): Promise<void> {
    if (this.rows.get(lease.id)?.etag === lease.etag) this.rows.delete(lease.id);
  }
}
