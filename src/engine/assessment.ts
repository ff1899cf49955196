import type { CallBudget } from './call-budget';
import { type DaprContext, daprFindings, decideClientIds } from './dapr';
import type { Findings } from './findings';
import { verifyGrantTargets } from './grant-targets';
import { missingCosmosGrants } from './grants/cosmos-sql-role-assignments';
import { assessRoleAssignments, resolveRoles } from './grants/role-assignments';
import { knownPrincipal, planHasIdentityWork } from './plan';
import { reportPlan } from './plan-report';
import type { EnginePorts } from './ports';
import type { IdentityState, Plan, ResourceState } from './types';
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
  resource: ResourceState,
  dapr: DaprContext | undefined,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<{ findings: Findings; needsWrites: boolean }> {
  const known = knownPrincipal(plan);
  const context = { plan, resolved: await resolveRoles(plan, ports, budget), principalId: known, principalIsNew: !known };
  const { assessed } = await assessRoleAssignments(context, ports, budget);
  const missingDataPlane = await missingCosmosGrants(context, ports, budget);
  const daprClientIds = dapr ? decideClientIds(plan, dapr, plan.grantee, identityAfterPlan(plan, resource.identity)) : undefined;
  const missing =
    assessed.filter((r) => !r.present).length +
    missingDataPlane.length +
    [...(daprClientIds?.values() ?? [])].filter((d) => d.action === 'write').length;
  return {
    findings: {
      plan: reportPlan(plan, { roleAssignments: assessed, missingDataPlane, daprClientIds }),
      principalId: known,
      skipped: daprFindings(plan, daprClientIds),
    },
    needsWrites: planHasIdentityWork(plan) || missing > 0,
  };
}

/**
 * What applying the plan would change, without writing (plan mode, report rules, dry runs): `planned`
 * when something is missing, `compliant` when nothing is.
 */
export async function assessPlan(
  plan: Plan,
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
    : await assessGrants(plan, resource, dapr, ports, budget);
  if (!needsWrites) return { ...findings, status: 'compliant' };
  const detail = why === 'report-only' ? `rule '${plan.rule}' is report-only` : why;
  return {
    ...findings,
    status: 'planned',
    skipped: [...(findings.skipped ?? []), { reason: 'not-applied', detail: `changes are needed but were not made: ${detail}` }],
  };
}
