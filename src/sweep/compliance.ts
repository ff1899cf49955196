import { subscriptionOf, tryParseArmId } from '../arm/resource-id';
import { resourceFacts, resourceTypeHandler } from '../azure/resource-types';
import {
  canonicalResourceType,
  type RoleResolver,
  type RuleMode,
  type RulesConfig,
  revokeModeOf,
  roleGuidFromDefinitionId,
  type SkipReason,
} from '../config';
import { planDaprGrants } from '../engine/dapr';
import { refusedTargets } from '../engine/grant-targets';
import { missingCosmosGrants } from '../engine/grants/cosmos-sql-role-assignments';
import { readIdentity } from '../engine/identity-state';
import { knownPrincipal, planHasIdentityWork, planRemediation } from '../engine/plan';
import type { EnginePorts } from '../engine/ports';
import { excessReason } from '../engine/revocation';
import type { Plan, ResourceState } from '../engine/types';
import { isAutopilotError } from '../errors';
import { PROPERTY_COLUMN_PREFIX, roleAssignmentsOfPrincipalsQuery } from './queries';
import { type OwnedGrants, type SweepRevocation, sweepRevocation } from './revocations';

/** What is wrong with a resource, as the sweep sees it. */
export type ComplianceProblem =
  /** The identity the rule asks for is not enabled (never remediated, or removed since). */
  | 'identity-missing'
  /** The rule's user-assigned identity is not attached. */
  | 'user-assigned-identity-missing'
  /** The principal lacks grants the rule gives it (never granted, or deleted since). */
  | 'role-assignments-missing'
  /** A Dapr app's principal lacks what one of its components needs (its own drift kind: a component changed, or a grant was removed). */
  | 'dapr-component-grants-missing'
  /**
   * The identity is on the resource's model but not yet on the workload: a Manual-upgrade scale set
   * whose instances are behind the model (`latestModelApplied`). The remediation it is queued for ends
   * `pending` (or upgrades them, where the rule opts in).
   */
  | 'follow-up-pending'
  /** The principal holds grants the product made that the rules no longer give (lifecycle.revoke). */
  | 'excess-grants';

export interface MissingRoleAssignment {
  role: string;
  roleDefinitionGuid: string;
  scope: string;
}

export interface ComplianceFinding {
  resourceId: string;
  resourceType: string;
  subscriptionId: string;
  rule: string;
  mode: RuleMode;
  principalId?: string;
  problems: ComplianceProblem[];
  missingRoleAssignments: MissingRoleAssignment[];
  /** Owned grants the rules no longer give, each with why (problem `excess-grants`). */
  excessGrants?: SweepRevocation[];
}

export type ComplianceAssessment =
  | { kind: 'compliant'; resourceId: string; resourceType: string }
  | { kind: 'skipped'; resourceId: string; reason: SkipReason | 'unsupported-type' | 'workload-identity'; detail: string }
  /** The rules cannot be applied to this resource (bad tag value...): reported as failed, never queued. */
  | { kind: 'invalid'; resourceId: string; code: string; detail: string }
  | { kind: 'non-compliant'; finding: ComplianceFinding };

/** Streams the rows of one query; the sweep's Resource Graph reader. */
export type RowSource = (query: string) => AsyncIterable<Array<Record<string, unknown>>>;

/**
 * A Resource Graph row of the governed-resources query as the engine's ResourceState, so the one
 * pure planner decides compliance. `rawBody` stays empty: planning never reads it.
 */
export function resourceStateFromRow(row: Record<string, unknown>): ResourceState | undefined {
  const id = tryParseArmId(row.id);
  const type = canonicalResourceType(String(row.type ?? id?.type ?? ''));
  if (!id || !type || !id.subscriptionId || !id.resourceGroup || !id.name) return undefined;
  const tags = row.tags && typeof row.tags === 'object' ? (row.tags as Record<string, string>) : {};
  // The row's `properties_*` columns are the members of `properties` the type's module reads.
  const properties = Object.fromEntries(
    Object.entries(row)
      .filter(([k]) => k.startsWith(PROPERTY_COLUMN_PREFIX))
      .map(([k, v]) => [k.slice(PROPERTY_COLUMN_PREFIX.length), v]),
  );
  const facts = resourceFacts(resourceTypeHandler(type)!, { id: row.id, name: row.name, identity: row.identity, properties });
  return {
    ...facts,
    id: id.id,
    type,
    subscriptionId: id.subscriptionId,
    resourceGroup: id.resourceGroup,
    name: id.name,
    location: String(row.location ?? ''),
    tags,
    identity: readIdentity(row.identity),
    // Blockers come from the type's module reading a full GET; the queue trigger that fixes a finding
    // reads the resource again, so a blocked resource is reported there, never written.
    blockers: [],
    rawBody: {},
    managedBy: nonEmpty(row.managedBy),
    resourceGroupManagedBy: nonEmpty(row.resourceGroupManagedBy),
  };
}

/** Ports the sweep uses for Dapr apps, tag-chosen targets and follow-up checks (the app's own; absent: not assessed). */
export type DaprSweepPorts = Partial<Pick<EnginePorts, 'dapr' | 'cosmosRoleAssignments' | 'grantTargets' | 'resources'>>;

/** Time for one Dapr app's component read and target query within a sweep. */
const DAPR_ASSESSMENT_MS = 60_000;

/** Whether a missing grant comes from a Dapr component rather than a profile. */
function isDaprGrant(plan: Plan, missing: MissingRoleAssignment): boolean {
  const same = (scope: string) => scope.toLowerCase() === missing.scope.toLowerCase();
  return (
    plan.roleAssignments.some(
      (r) => r.profile.startsWith('dapr:') && same(r.scope) && r.roleDefinitionGuid === missing.roleDefinitionGuid,
    ) ||
    (plan.dataPlaneRoleAssignments ?? []).some(
      (d) => d.source.startsWith('dapr:') && same(d.scope) && d.roleDefinitionGuid === missing.roleDefinitionGuid,
    )
  );
}

/**
 * A resource whose identity and grants are in place may still not have them on its workload: a type's
 * follow-up owed from an earlier write (a scale set's instances behind the model). Its row cannot tell;
 * one read-only call per such resource (the instance list) does. Asked only when identity and grants are
 * in place; a failed check is reported (invalid), never taken for compliance.
 */
async function followUpOwed(plan: Plan, resource: ResourceState, ports: DaprSweepPorts | undefined): Promise<boolean> {
  if (!ports?.resources) return false;
  for (const step of plan.followUps ?? []) {
    if (await ports.resources.followUpNeeded(resource, step.code, { signal: AbortSignal.timeout(DAPR_ASSESSMENT_MS) })) return true;
  }
  return false;
}

const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** One row planned with the engine's planner, or why it is not (skipped, invalid, judged elsewhere). */
function planRow(
  row: Record<string, unknown>,
  rules: RulesConfig,
  now: Date,
): { resource: ResourceState; plan: Plan } | ComplianceAssessment {
  const resource = resourceStateFromRow(row);
  const resourceId = String(row.id ?? '');
  if (!resource)
    return { kind: 'skipped', resourceId, reason: 'unsupported-type', detail: `'${String(row.type)}' is not a supported resource type` };
  const result = planRemediation(resource, rules, { now });
  if (result.kind === 'skip') return { kind: 'skipped', resourceId: resource.id, reason: result.reason, detail: result.detail };
  if (result.kind === 'invalid') return { kind: 'invalid', resourceId: resource.id, code: result.code, detail: result.detail };
  // A cluster's row does not show its service accounts' identities, credentials or their grants: events,
  // the HTTP API and the CLI check those (one read per identity); the sweep does not judge them yet.
  if (result.plan.workloadIdentities) {
    return {
      kind: 'skipped',
      resourceId: resource.id,
      reason: 'workload-identity',
      detail: 'AKS workload identities are checked by events, the HTTP API and the CLI, not by the sweep',
    };
  }
  return { resource, plan: result.plan };
}

/**
 * Decides compliance for one page of resources with the engine's planner, then checks the grants of
 * every principal on the page with one `authorizationresources` query (streamed too), so memory is
 * bounded by the page, not the estate.
 */
export async function assessPage(
  rows: Array<Record<string, unknown>>,
  context: {
    rules: RulesConfig;
    /** The instant rules-file exemptions are judged at (the sweep's clock). */
    now: Date;
    roles: RoleResolver;
    readRows: RowSource;
    ports?: DaprSweepPorts;
    owned?: OwnedGrants;
  },
): Promise<ComplianceAssessment[]> {
  const planned: Array<{ resource: ResourceState; plan: Plan } | ComplianceAssessment> = rows.map((row) =>
    planRow(row, context.rules, context.now),
  );

  // Dapr apps under a rule with a `dapr` section: their components' grants join the plan (one list and
  // one Resource Graph query per such app, so only those apps cost more than a row).
  for (const [i, p] of planned.entries()) {
    if (!('plan' in p) || !p.resource.dapr || !context.ports?.dapr) continue;
    const options = context.rules.rules.find((r) => r.name === p.plan.rule)?.dapr;
    if (!options) continue;
    try {
      const dapr = await planDaprGrants(p.plan, p.resource, options, context.ports, { signal: AbortSignal.timeout(DAPR_ASSESSMENT_MS) });
      if (dapr) planned[i] = { resource: p.resource, plan: dapr.plan };
    } catch (e) {
      if (!isAutopilotError(e)) throw e;
      planned[i] = { kind: 'invalid', resourceId: p.resource.id, code: e.code, detail: e.message };
    }
  }

  const principals = new Set<string>();
  for (const p of planned) {
    if (!('plan' in p) || p.plan.roleAssignments.length === 0) continue;
    const principal = knownPrincipal(p.plan);
    if (principal) principals.add(principal.toLowerCase());
  }
  const held = new Set<string>();
  if (principals.size > 0) {
    for await (const page of context.readRows(roleAssignmentsOfPrincipalsQuery([...principals]))) {
      for (const r of page) {
        const guid = roleGuidFromDefinitionId(String(r.roleDefinitionId ?? ''));
        if (guid) held.add(`${String(r.principalId).toLowerCase()}|${String(r.scope).toLowerCase()}|${guid}`);
      }
    }
  }

  const out: ComplianceAssessment[] = [];
  for (const p of planned) {
    if (!('plan' in p)) {
      out.push(p);
      continue;
    }
    const { plan, resource } = p;
    const problems: ComplianceProblem[] = [];
    if (plan.identity.action === 'write' && plan.userAssignedIdentity) problems.push('user-assigned-identity-missing');
    else if (planHasIdentityWork(plan)) problems.push('identity-missing');
    const principal = knownPrincipal(plan);
    const missing: MissingRoleAssignment[] = [];
    const desired: Array<{ scope: string; roleDefinitionGuid: string; profile: string }> = [];
    let excess: SweepRevocation[] = [];
    try {
      for (const ra of plan.roleAssignments) {
        const subscription = subscriptionOf(ra.scope) || resource.subscriptionId;
        const guid = ra.roleDefinitionGuid ?? (await context.roles.resolve(ra.role, subscription)).roleDefinitionGuid;
        desired.push({ scope: ra.scope, roleDefinitionGuid: guid, profile: ra.profile });
        // A principal that does not exist yet (identity to be enabled) holds nothing.
        if (!principal || !held.has(`${principal.toLowerCase()}|${ra.scope.toLowerCase()}|${guid}`)) {
          missing.push({ role: ra.roleDisplayName, roleDefinitionGuid: guid, scope: ra.scope });
        }
      }
      // The second kind of grant: Cosmos DB data-plane roles, listed per account.
      if ((plan.dataPlaneRoleAssignments ?? []).length > 0 && context.ports?.cosmosRoleAssignments) {
        const absent = await missingCosmosGrants(
          { plan, principalId: principal, principalIsNew: !principal },
          context.ports as EnginePorts,
          { signal: AbortSignal.timeout(DAPR_ASSESSMENT_MS) },
        );
        for (const d of absent) {
          missing.push({ role: `${d.roleDisplayName} (Cosmos DB data plane)`, roleDefinitionGuid: d.roleDefinitionGuid, scope: d.scope });
        }
      }
      if (problems.length + missing.length === 0 && (await followUpOwed(plan, resource, context.ports))) problems.push('follow-up-pending');
      excess = await excessOf(plan, principal, desired, context);
    } catch (e) {
      if (!isAutopilotError(e)) throw e;
      out.push({ kind: 'invalid', resourceId: resource.id, code: e.code, detail: e.message });
      continue;
    }
    const fromProfiles = missing.filter((m) => !isDaprGrant(plan, m));
    if (fromProfiles.length > 0) problems.push('role-assignments-missing');
    if (missing.length > fromProfiles.length) problems.push('dapr-component-grants-missing');
    if (excess.length > 0) problems.push('excess-grants');
    if (problems.length === 0) {
      out.push({ kind: 'compliant', resourceId: resource.id, resourceType: resource.type });
      continue;
    }
    out.push({
      kind: 'non-compliant',
      finding: {
        resourceId: resource.id,
        resourceType: resource.type,
        subscriptionId: resource.subscriptionId,
        rule: plan.rule,
        mode: plan.mode,
        principalId: principal,
        problems,
        missingRoleAssignments: missing,
        ...(excess.length > 0 ? { excessGrants: excess } : {}),
      },
    });
  }
  return out;
}

/**
 * The workload's owned grants (ARM's createdBy is the app) held by its principal that the plan no longer
 * gives, each with why: a profile or rule gone, a tag re-pointed, or a tag-chosen target that now refuses
 * (consent withdrawn: one ARM read per such target the principal holds).
 */
async function excessOf(
  plan: Plan,
  principal: string | undefined,
  desired: ReadonlyArray<{ scope: string; roleDefinitionGuid: string; profile: string }>,
  context: { rules: RulesConfig; ports?: DaprSweepPorts; owned?: OwnedGrants },
): Promise<SweepRevocation[]> {
  const owned = context.owned?.take(plan.resourceId) ?? [];
  // Grants of an earlier principal of this workload are not judged here: nothing in ARM proves that principal gone.
  const held = owned.filter((a) => principal !== undefined && a.principalId.toLowerCase() === principal.toLowerCase());
  if (held.length === 0) return [];
  const heldScopes = new Set(held.map((a) => a.scope.toLowerCase()));
  const refused = context.ports?.grantTargets
    ? await refusedTargets(plan, { grantTargets: context.ports.grantTargets }, { signal: AbortSignal.timeout(DAPR_ASSESSMENT_MS) }, (s) =>
        heldScopes.has(s.toLowerCase()),
      )
    : new Map<string, string>();
  const mode = revokeModeOf(
    context.rules,
    context.rules.rules.find((r) => r.name === plan.rule),
  );
  return held.flatMap((a) => {
    const reason = excessReason(plan, context.rules, a, desired, refused);
    return reason ? [sweepRevocation('excess', a, reason, mode)] : [];
  });
}
