import { createHash } from 'node:crypto';
import type { RulesConfig } from '../config';
import type { StructuredLogger } from '../logging/logger';
import type { SweepFinding } from './report';

/**
 * A resource whose last remediation ended `blocked` (VaultUsesAccessPolicies, RequiresRedeploy,
 * SystemAssignedNotSupported...) stays blocked until a person changes the resource or the rules:
 * queueing it again every sweep costs a message and a remediation's ARM reads for nothing. The sweep
 * keeps, in the ledger's table, what it saw when it queued a resource (its row's fingerprint and the
 * rules' stamp); a later sweep that finds the last outcome `blocked`, after that queueing, and neither
 * changed, reports it blocked instead of queueing it (for at most BLOCKED_HOLD_MS).
 *
 * The change marker is our own fingerprint: Resource Graph's `resources` table documents no
 * per-resource last-modified column the sweep could rely on (ARM's `systemData.lastModifiedAt` is a
 * resource provider's field, not one every type fills), and the row holds exactly what planning reads.
 */

/** The sweep's view of one ledger row: only what it compares. */
export interface LastOutcome {
  status: string;
  startedAt: string;
  blockers?: Array<{ code: string; detail: string; remedy?: string }>;
}

/** What the sweep saw when it queued a resource (the ledger's `sweepmarks` rows). */
export interface SweepMark {
  resourceId: string;
  fingerprint: string;
  rulesStamp: string;
  queuedAt: string;
  sweepId: string;
}

/** The ledger as the sweep reads it (`LedgerStore` satisfies it). */
export interface SweepLedger {
  byResourceId(resourceId: string, limit?: number): Promise<LastOutcome[]>;
  readonly sweepMarks: { get(resourceId: string): Promise<SweepMark | undefined>; put(mark: SweepMark): Promise<void> };
}

/** JSON with object keys sorted, so the same row (in any column order) gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The fingerprint of a governed-resources row: identity, tags, managedBy and the projected properties. */
export function rowFingerprint(row: Record<string, unknown>): string {
  return sha256(canonical(row));
}

/** The rules' stamp: any change to the rules (a rule, a profile, the scope) queues blocked resources again. */
export function rulesStamp(rules: RulesConfig): string {
  return sha256(canonical(rules));
}

/**
 * A hold lasts at most a day: some blockers lie outside the resource's row (VaultUsesAccessPolicies is
 * the target vault's permission model, which a person fixes on the vault), so a held resource is queued
 * once a day even unchanged; an hourly sweep sends one message where it sent 24.
 */
export const BLOCKED_HOLD_MS = 24 * 3600 * 1000;

const byId = (id: string) => id.replace(/\/+$/, '').toLowerCase();

/** Why a finding is held back: the last outcome's blocker, and since when nothing changed. */
function blockedNote(outcome: LastOutcome, mark: SweepMark): NonNullable<SweepFinding['blocked']> {
  const b = outcome.blockers?.[0];
  return {
    code: b?.code ?? 'Blocked',
    detail: `${b?.detail ?? 'the last remediation ended blocked'}; unchanged since ${mark.queuedAt}`,
    ...(b?.remedy !== undefined && { remedy: b.remedy }),
    since: mark.queuedAt,
  };
}

/**
 * Holds back the blocked, unchanged resources of a sweep and remembers what it queued. Table calls:
 * one read of the newest ledger row per finding to queue, one mark read when that row is `blocked`,
 * one mark write per message sent. No ARM call. A ledger that cannot be read queues as before.
 */
export class BlockedGate {
  private readonly fingerprints = new Map<string, string>();
  private readonly stamp: string;

  constructor(
    private readonly ledger: SweepLedger,
    rules: RulesConfig,
    private readonly sweepId: string,
    private readonly log?: StructuredLogger,
  ) {
    this.stamp = rulesStamp(rules);
  }

  /** The page's rows, as Resource Graph returned them: what the findings are compared by. */
  saw(rows: ReadonlyArray<Record<string, unknown>>): void {
    this.fingerprints.clear();
    for (const row of rows) if (typeof row.id === 'string') this.fingerprints.set(byId(row.id), rowFingerprint(row));
  }

  /** Marks a finding to queue `blocked` when its last outcome is blocked and nothing changed since it was queued. */
  async hold(finding: SweepFinding): Promise<void> {
    if (finding.action !== 'queued') return;
    const fingerprint = this.fingerprints.get(byId(finding.resourceId));
    if (!fingerprint) return;
    try {
      const [last] = await this.ledger.byResourceId(finding.resourceId, 1);
      if (last?.status !== 'blocked') return;
      const mark = await this.ledger.sweepMarks.get(finding.resourceId);
      // The blocked outcome must be the remediation of what was queued (or later), and what was queued unchanged.
      if (!mark || mark.fingerprint !== fingerprint || mark.rulesStamp !== this.stamp) return;
      const queuedAt = Date.parse(mark.queuedAt);
      if (!(Date.parse(last.startedAt) >= queuedAt) || Date.now() - queuedAt >= BLOCKED_HOLD_MS) return;
      finding.action = 'blocked';
      finding.blocked = blockedNote(last, mark);
      const { code, detail, remedy } = finding.blocked;
      finding.reasons = [{ code, detail, ...(remedy !== undefined && { remedy }) }];
    } catch (e) {
      this.log?.log('warn', 'sweep.blocked-check.failed', { resourceId: finding.resourceId, error: errorText(e) });
    }
  }

  /** After its message was sent: what the sweep saw, for the next sweep to compare. */
  async remember(finding: SweepFinding, queuedAt: Date): Promise<void> {
    const fingerprint = this.fingerprints.get(byId(finding.resourceId));
    if (finding.action !== 'queued' || !fingerprint) return;
    try {
      await this.ledger.sweepMarks.put({
        resourceId: finding.resourceId,
        fingerprint,
        rulesStamp: this.stamp,
        queuedAt: queuedAt.toISOString(),
        sweepId: this.sweepId,
      });
    } catch (e) {
      // The message is sent; without the mark the next sweep only queues the resource again, as before.
      this.log?.log('warn', 'sweep.mark.failed', { resourceId: finding.resourceId, error: errorText(e) });
    }
  }
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
