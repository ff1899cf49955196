import { type RulesConfig, revokeModeOf } from '../config';
import type { CallBudget } from './call-budget';
import { type DaprContext, daprFindings, decideClientIds } from './dapr';
import type { Findings } from './findings';
import { verifyGrantTargets } from './grant-targets';
import { missingCosmosGrants } from './grants/cosmos-sql-role-assignments';
import type { GrantAction } from './grants/grant-kind';
import { assessRoleAssignments, type ResolvedRoleAssignment, resolveRoles } from './grants/role-assignments';
import { knownPrincipal, planHasIdentityWork } from './plan';
import { reportPlan } from './plan-report';
import type { EnginePorts, ExistingRoleAssignment } from './ports';
import { excessReason, ownedAssignment, roleName } from './revocation';
import type { IdentityState, Plan, PlannedRevocation, ResourceState } from './types';
import { assessWorkloadIdentities } from './workload-identity';

/** Why a remediation that needs changes does not make them. */
export type NotApplied = 'plan mode' | 'report-only' | 'dry run';

/** The identity the workload will hold once the plan's identity write is done (for plan-only outcomes). */
export function identityAfterPlan(plan: Plan, current: IdentityState): IdentityState {
  if (plan.identity.action !== 'write') return current;
  const to = plan.identity.to;
  return { type: to.type, userAssigned: Object.keys(to.userAssignedIdentities ?? {}).map((id) => ({ id })) };
}

/** AKS workload identity, read-only: each service account's identity, credential and roles. */
async function assessServiceAccounts(
  plan: Plan,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<{ findings: Findings; needsWrites: boolean }> {
  const resolved = await resolveRoles(plan, ports, budget);
  const assessed = await assessWorkloadIdentities(
    plan.resourceId,
    plan.workloadIdentities!,
    ports,
    budget,
    async (principalId) =>
      (await assessRoleAssignments({ plan, resolved, principalId, principalIsNew: !principalId }, ports, budget)).assessed,
  );
  // The roles are per service account (in `workloadIdentities`); the plan's list shows them resolved.
  const report = reportPlan(plan, { roleAssignments: resolved.map((r) => ({ ...r, present: false })) });
  return {
    findings: { plan: report, workloadIdentities: assessed.results },
    needsWrites: !assessed.complete || plan.clusterChange !== undefined,
  };
}

/** Every other plan, read-only: which grants the known principal holds, and what Dapr's components need. */
async function assessGrants(
  plan: Plan,
  config: RulesConfig,
  resource: ResourceState,
  dapr: DaprContext | undefined,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<{ findings: Findings; needsWrites: boolean }> {
  const known = knownPrincipal(plan);
  const context = { plan, resolved: await resolveRoles(plan, ports, budget), principalId: known, principalIsNew: !known };
  const { assessed, actions } = await assessRoleAssignments(context, ports, budget);
  const revocations = plannedRevocations(plan, config, context.resolved, actions);
  const missingDataPlane = await missingCosmosGrants(context, ports, budget);
  const daprClientIds = dapr ? decideClientIds(plan, dapr, plan.grantee, identityAfterPlan(plan, resource.identity)) : undefined;
  const missing =
    revocations.length +
    assessed.filter((r) => !r.present).length +
    missingDataPlane.length +
    [...(daprClientIds?.values() ?? [])].filter((d) => d.action === 'write').length;
  return {
    findings: {
      plan: reportPlan(plan, { roleAssignments: assessed, missingDataPlane, daprClientIds }),
      principalId: known,
      ...(revocations.length > 0 ? { revocations } : {}),
      skipped: daprFindings(plan, daprClientIds),
    },
    needsWrites: planHasIdentityWork(plan) || missing > 0,
  };
}

/**
 * The diff's removals (role assignments ARM shows the product made for this workload, no longer desired),
 * each with why and what lifecycle.revoke says to do with it.
 */
export function plannedRevocations(
  plan: Plan,
  config: RulesConfig,
  resolved: readonly ResolvedRoleAssignment[],
  actions: ReadonlyArray<GrantAction<ResolvedRoleAssignment, ExistingRoleAssignment>>,
): PlannedRevocation[] {
  const revoke = revokeModeOf(
    config,
    config.rules.find((r) => r.name === plan.rule),
  );
  const desired = resolved.map((r) => ({ scope: r.scope, roleDefinitionGuid: r.roleDefinitionGuid, profile: r.profile }));
  return actions.flatMap((a) => {
    if (a.kind !== 'remove') return [];
    const owned = ownedAssignment({ ...a.grant, id: a.grant.id ?? '', principalId: a.grant.principalId ?? a.owner.principalId ?? '' });
    const reason = owned ? excessReason(plan, config, owned, desired) : undefined;
    if (!reason) return [];
    return [
      {
        ...(a.grant.id ? { assignmentId: a.grant.id } : {}),
        role: roleName(a.grant.roleDefinitionGuid),
        scope: a.grant.scope,
        reason,
        revoke,
      },
    ];
  });
}

/**
 * What applying the plan would change, without writing (plan mode, report rules, dry runs): `planned`
 * when something is missing, `compliant` when nothing is.
 */
export async function assessPlan(
  plan: Plan,
  config: RulesConfig,
  resource: ResourceState,
  dapr: DaprContext | undefined,
  ports: EnginePorts,
  budget: CallBudget,
  why: NotApplied,
): Promise<Findings> {
  // A plan must not show a grant that apply would refuse.
  await verifyGrantTargets(plan, ports, budget);
  const { findings, needsWrites } = plan.workloadIdentities
    ? await assessServiceAccounts(plan, ports, budget)
    : await assessGrants(plan, config, resource, dapr, ports, budget);
  if (!needsWrites) return { ...findings, status: 'compliant' };
  const detail = why === 'report-only' ? `rule '${plan.rule}' is report-only` : why;
  return {
    ...findings,
    status: 'planned',
    skipped: [...(findings.skipped ?? []), { reason: 'not-applied', detail: `changes are needed but were not made: ${detail}` }],
  };
}
