import { sameArmId } from '../arm/resource-id';
import { type RevokeMode, type RulesConfig, revokeModeOf, roleGuidFromDefinitionId, type SkipReason } from '../config';
import { planRemediation } from '../engine/plan';
import type { EnginePorts, ResourcePort } from '../engine/ports';
import { executeRemovals, type RemovalRecord } from '../engine/removals';
import { type OwnedRoleAssignment, ownedAssignment, type RevocationKind, roleName } from '../engine/revocation';
import type { RemediationOutcome } from '../engine/types';
import type { RowSource } from './compliance';
import { assignmentsOfPrincipalsQuery, identitiesOfPrincipalsQuery, ownedRoleAssignmentsQuery } from './queries';

/**
 * The sweep's side of revocation and orphan collection (issue 22, items 3 and 4): every role assignment
 * ARM records as made by the app, grouped by the workload its description names; each governed page
 * takes its own workloads' grants (compliance.ts judges them against the plan), and what is left after
 * the last page belongs to workloads no rule gives anything any more, or that no longer exist.
 */

/** One owned grant the rules no longer give (`excess`) or whose principal is gone (`orphan`), as the report lists it. */
export interface SweepRevocation {
  kind: RevocationKind;
  assignmentId: string;
  principalId: string;
  role: string;
  scope: string;
  /** The workload and rule its description names. */
  resourceId: string;
  rule: string;
  reason: string;
  /** What the rules say to do with it (lifecycle.revoke). */
  revoke: RevokeMode;
  /**
   * `listed` (report mode), `held` (enforce, but the mass-revocation guard stopped the run), or what the
   * removal did: `removed`, `absent` (already gone), `kept` (ARM's re-check did not prove it ours), `failed`.
   */
  status: 'listed' | 'held' | 'removed' | 'absent' | 'kept' | 'failed';
  detail?: string;
}

/** An assignment of a principal proven gone that the app did not make: counted and listed, never deleted. */
export interface ForeignOrphan {
  assignmentId: string;
  principalId: string;
  role: string;
  scope: string;
  createdBy: string;
}

/**
 * Skip reasons under which a workload's owned grants are no longer given: the rules stopped governing it.
 * Keyed by the planner's SkipReason type so a renamed reason fails to compile instead of silently never matching.
 */
const SKIP_WORDS: Partial<Record<SkipReason, string>> = {
  'no-matching-rule': 'no rule matches it any more',
  'type-not-governed': 'its type is no longer governed',
  'resource-group-not-governed': 'its resource group is no longer governed',
};

export function sweepRevocation(
  kind: RevocationKind,
  a: OwnedRoleAssignment,
  reason: string,
  revoke: RevokeMode,
  role = roleName(a.roleDefinitionGuid),
): SweepRevocation {
  return {
    kind,
    assignmentId: a.id,
    principalId: a.principalId,
    role,
    scope: a.scope,
    resourceId: a.owner.resourceId,
    rule: a.owner.rule,
    reason,
    revoke,
    status: 'listed',
  };
}

/** The revoke mode for a grant of a workload no rule plans now: the rule its description names, if it still exists. */
function modeFor(rules: RulesConfig, ruleName: string): RevokeMode {
  return revokeModeOf(
    rules,
    rules.rules.find((r) => r.name.toLowerCase() === ruleName.toLowerCase()),
  );
}

/** The app's grants, by the workload they were made for (lower-case id). */
export class OwnedGrants {
  private readonly byResource = new Map<string, OwnedRoleAssignment[]>();
  /** Workloads the sweep saw but did not plan, with why (a skip reason). */
  private readonly skippedAs = new Map<string, string>();

  /** One streamed Resource Graph query: what ARM records as created by the app, with the product's description. */
  static async read(rows: RowSource, appIds: readonly string[]): Promise<OwnedGrants> {
    const owned = new OwnedGrants();
    if (appIds.length === 0) return owned;
    for await (const page of rows(ownedRoleAssignmentsQuery(appIds))) {
      for (const r of page) {
        const guid = roleGuidFromDefinitionId(String(r.roleDefinitionId ?? ''));
        const a = guid
          ? ownedAssignment({
              id: String(r.id),
              principalId: String(r.principalId),
              scope: String(r.scope),
              roleDefinitionGuid: guid,
              description: String(r.description ?? ''),
            })
          : undefined;
        if (!a) continue;
        const k = a.owner.resourceId.toLowerCase();
        const list = owned.byResource.get(k);
        if (list) list.push(a);
        else owned.byResource.set(k, [a]);
      }
    }
    return owned;
  }

  /** The workload's grants, handed to the page that plans it (and no longer left over). */
  take(resourceId: string): OwnedRoleAssignment[] {
    const k = resourceId.toLowerCase();
    const found = this.byResource.get(k) ?? [];
    this.byResource.delete(k);
    return found;
  }

  /** A workload the sweep read but skipped: its grants are judged after the last page, by the skip's reason. */
  skipped(resourceId: string, reason: string): void {
    if (this.byResource.has(resourceId.toLowerCase())) this.skippedAs.set(resourceId.toLowerCase(), reason);
  }

  /**
   * After the last page: grants of workloads no page planned. A workload skipped because the rules stopped
   * governing it: excess. One the sweep did not see is read from ARM: still there, it is planned now (excess
   * when the rules skip it); 404, its grants are orphans when no user-assigned identity holds their principal
   * (the system-assigned principal went with its resource), else excess ("the workload no longer exists").
   */
  async leftovers(
    rules: RulesConfig,
    resources: Pick<ResourcePort, 'read'>,
    rows: RowSource,
    signal: AbortSignal,
    now: Date,
  ): Promise<{ revocations: SweepRevocation[]; foreignOrphans: ForeignOrphan[]; appIds?: never }> {
    const revocations: SweepRevocation[] = [];
    const gone: OwnedRoleAssignment[] = [];
    for (const [k, grants] of this.byResource) {
      const skip = this.skippedAs.get(k) ?? (await this.skipOfUnseen(grants[0]!.owner.resourceId, rules, resources, signal, now));
      const words = skip && skip !== 'gone' ? SKIP_WORDS[skip as SkipReason] : undefined;
      if (skip === 'gone') gone.push(...grants);
      else if (words) for (const a of grants) revocations.push(sweepRevocation('excess', a, words, modeFor(rules, a.owner.rule)));
    }
    this.byResource.clear();
    if (gone.length === 0) return { revocations, foreignOrphans: [] };
    const principals = [...new Set(gone.map((a) => a.principalId.toLowerCase()))];
    const living = new Set<string>();
    for await (const page of rows(identitiesOfPrincipalsQuery(principals))) for (const r of page) living.add(String(r.principalId));
    for (const a of gone) {
      const orphan = !living.has(a.principalId.toLowerCase());
      revocations.push(
        sweepRevocation(
          orphan ? 'orphan' : 'excess',
          a,
          orphan
            ? `its principal no longer exists: ${a.owner.resourceId} is gone (ARM answers 404) and no user-assigned identity holds it`
            : `the workload it was made for no longer exists (ARM answers 404 for ${a.owner.resourceId})`,
          modeFor(rules, a.owner.rule),
        ),
      );
    }
    const dead = principals.filter((p) => !living.has(p));
    return { revocations, foreignOrphans: dead.length > 0 ? await foreignOrphansOf(dead, gone, rows) : [] };
  }

  /** A workload the sweep did not see: `gone` on ARM's 404, else the planner's skip reason (undefined when planned). */
  private async skipOfUnseen(
    resourceId: string,
    rules: RulesConfig,
    resources: Pick<ResourcePort, 'read'>,
    signal: AbortSignal,
    now: Date,
  ): Promise<SkipReason | 'gone' | undefined> {
    // A read ARM refuses (403, throttled) proves nothing: the grants are judged by a later sweep.
    const resource = await resources.read(resourceId, { signal }).catch(() => null);
    if (resource === null) return undefined;
    if (!resource) return 'gone';
    const planned = planRemediation(resource, rules, { now });
    return planned.kind === 'skip' ? planned.reason : undefined;
  }
}

/** Every other assignment of principals proven gone: those the app did not make are listed, never removed. */
async function foreignOrphansOf(dead: readonly string[], ours: readonly OwnedRoleAssignment[], rows: RowSource): Promise<ForeignOrphan[]> {
  const out: ForeignOrphan[] = [];
  for await (const page of rows(assignmentsOfPrincipalsQuery(dead))) {
    for (const r of page) {
      const id = String(r.id);
      if (ours.some((a) => sameArmId(a.id, id))) continue;
      const guid = roleGuidFromDefinitionId(String(r.roleDefinitionId ?? '')) ?? '';
      out.push({
        assignmentId: id,
        principalId: String(r.principalId),
        role: roleName(guid),
        scope: String(r.scope),
        createdBy: String(r.createdBy ?? ''),
      });
    }
  }
  return out;
}

/**
 * Removes enforce-mode revocations one by one through the engine's removals, which read each assignment
 * afresh and delete it only when ARM still shows it made by the app for the workload its description
 * names; each item's status says what happened.
 */
export async function removeRevocations(items: SweepRevocation[], ports: EnginePorts, signal: AbortSignal): Promise<RemovalRecord[]> {
  const result = await executeRemovals(
    items.map((i) => ({
      kind: 'role-assignment' as const,
      assignmentId: i.assignmentId,
      owner: { resourceId: i.resourceId, principalId: i.principalId },
      reason: `${i.kind === 'orphan' ? 'orphan' : 'revoked'}: ${i.reason}`,
    })),
    ports,
    { signal },
  );
  result.records.forEach((r, n) => {
    items[n]!.status = r.status;
    if (r.detail) items[n]!.detail = r.detail;
  });
  return result.records;
}

/**
 * The sweep's removals as outcomes, one per workload, so each is in the ledger, the outcome events and
 * the removal metrics like any other change the product makes.
 */
export function removalOutcomes(
  items: readonly SweepRevocation[],
  records: readonly RemovalRecord[],
  sweepId: string,
): RemediationOutcome[] {
  const byWorkload = new Map<string, { resourceId: string; rule: string; removed: RemovalRecord[] }>();
  items.forEach((item, n) => {
    const k = item.resourceId.toLowerCase();
    const entry = byWorkload.get(k) ?? { resourceId: item.resourceId, rule: item.rule, removed: [] };
    entry.removed.push(records[n]!);
    byWorkload.set(k, entry);
  });
  const now = new Date().toISOString();
  return [...byWorkload.values()].map(({ resourceId, rule, removed }) => ({
    correlationId: `${sweepId}:${resourceId.toLowerCase()}`,
    resourceId,
    status: removed.some((r) => r.status === 'removed') ? 'remediated' : 'compliant',
    rule,
    actions: [],
    removed,
    skipped: [],
    errors: removed
      .filter((r) => r.status === 'failed')
      .map((r) => ({ code: 'RemovalFailed', message: `${r.id}: ${r.detail ?? ''}`, transient: true })),
    startedAt: now,
    durationMs: 0,
  }));
}
