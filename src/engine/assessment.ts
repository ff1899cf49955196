import { assessRoleAssignments, markPresent, resolveRoles } from './apply';
import type { CallBudget } from './call-budget';
import { type DaprContext, daprFindings, decideClientIds, identityCount } from './dapr';
import { markCosmosPresent } from './data-plane';
import type { Findings } from './findings';
import { verifyGrantTargets } from './grant-targets';
import { knownPrincipal, planHasIdentityWork } from './plan';
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
async function assessServiceAccounts(plan: Plan, ports: EnginePorts, budget: CallBudget): Promise<{ findings: Findings; needsWrites: boolean }> {
  const resolved = await resolveRoles(plan, ports, budget);
  const assessed = await assessWorkloadIdentities(plan.workloadIdentities!, ports, budget, (principalId) => markPresent(resolved, principalId, ports, budget, { principalIsNew: !principalId }));
  plan.roleAssignments = resolved;
  return { findings: { workloadIdentities: assessed.results }, needsWrites: !assessed.complete || plan.clusterChange !== undefined };
}

/** Every other plan, read-only: which grants the known principal holds, and what Dapr's components need. */
async function assessGrants(plan: Plan, resource: ResourceState, dapr: DaprContext | undefined, ports: EnginePorts, budget: CallBudget): Promise<{ findings: Findings; needsWrites: boolean }> {
  const known = knownPrincipal(plan);
  const assessed = await assessRoleAssignments(plan, known, ports, budget, { principalIsNew: !known });
  plan.roleAssignments = assessed;
  await markCosmosPresent(plan, known, ports, budget, { principalIsNew: !known });
  if (dapr) decideClientIds(plan, dapr, resource.id, plan.grantee, identityCount(identityAfterPlan(plan, resource.identity)));
  const missing =
    assessed.filter((r) => !r.present).length +
    (plan.dataPlaneRoleAssignments ?? []).filter((r) => !r.present).length +
    (plan.dapr?.components ?? []).filter((c) => c.clientId?.action === 'write').length;
  return { findings: { principalId: known, skipped: daprFindings(plan) }, needsWrites: planHasIdentityWork(plan) || missing > 0 };
}

/**
 * What applying the plan would change, without writing (plan mode, report rules, dry runs): `planned`
 * when something is missing, `compliant` when nothing is.
 */
export async function assessPlan(plan: Plan, resource: ResourceState, dapr: DaprContext | undefined, ports: EnginePorts, budget: CallBudget, why: NotApplied): Promise<Findings> {
  // A plan must not show a grant that apply would refuse.
  await verifyGrantTargets(plan, ports, budget);
  const { findings, needsWrites } = plan.workloadIdentities ? await assessServiceAccounts(plan, ports, budget) : await assessGrants(plan, resource, dapr, ports, budget);
  if (!needsWrites) return { ...findings, status: 'compliant' };
  const detail = why === 'report-only' ? `rule '${plan.rule}' is report-only` : why;
  return { ...findings, status: 'planned', skipped: [...(findings.skipped ?? []), { reason: 'not-applied', detail: `changes are needed but were not made: ${detail}` }] };
}
