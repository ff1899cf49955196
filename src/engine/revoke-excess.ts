import { lifecycleOf, type RulesConfig, revokeModeOf } from '../config';
import { plannedRevocations } from './assessment';
import type { CallBudget } from './call-budget';
import type { Findings } from './findings';
import { assessRoleAssignments, resolveRoles } from './grants/role-assignments';
import type { EnginePorts } from './ports';
import { executeRemovals } from './removals';
import { massRevocationGuard } from './revocation';
import type { Plan } from './types';

/**
 * After an apply under `lifecycle.revoke: enforce`: the workload's own grants the plan no longer gives (a
 * re-pointed tag, a profile gone) are removed at once, each re-proven ours by ARM right before its DELETE
 * (removals.ts). One list call; a run over the mass-revocation guard removes nothing and says so.
 * Under `report` nothing is read or removed here (the sweep and plan mode list them).
 */
export async function revokeExcess(
  plan: Plan,
  config: RulesConfig,
  principalId: string | undefined,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<Findings | undefined> {
  const rule = config.rules.find((r) => r.name === plan.rule);
  if (revokeModeOf(config, rule) !== 'enforce' || !principalId || plan.workloadIdentities) return undefined;
  const resolved = await resolveRoles(plan, ports, budget);
  const { actions } = await assessRoleAssignments({ plan, resolved, principalId, principalIsNew: false }, ports, budget);
  const revocations = plannedRevocations(plan, config, resolved, actions).filter((r) => r.assignmentId);
  if (revocations.length === 0) return undefined;
  const guard = massRevocationGuard(revocations.length, lifecycleOf(config).maxRevocations, false);
  if (!guard.allowed) return { revocations, skipped: [{ reason: 'mass-revocation-guard', detail: guard.detail }] };
  const { records, errors } = await executeRemovals(
    revocations.map((r) => ({
      kind: 'role-assignment' as const,
      assignmentId: r.assignmentId!,
      owner: { resourceId: plan.resourceId, principalId },
      reason: `revoked: ${r.reason}`,
    })),
    ports,
    budget,
  );
  return { revocations, removed: records, ...(errors.length > 0 ? { errors } : {}) };
}
