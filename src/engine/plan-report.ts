import type { DaprClientIdDecisions } from './dapr';
import type { AssessedRoleAssignment } from './grants/role-assignments';
import type { CosmosSqlRoleAssignmentPlan, Plan, PlanReport } from './types';

/**
 * What was observed of a plan's grants, kept apart from the plan (which never changes once made) and
 * joined to it only in the outcome's plan report.
 */
export interface ObservedGrants {
  /** The plan's role assignments, resolved, with whether the principal holds each. */
  roleAssignments?: readonly AssessedRoleAssignment[];
  /** The data-plane grants the principal does not hold (the plan's others it holds); unset: not looked at. */
  missingDataPlane?: readonly CosmosSqlRoleAssignmentPlan[];
  /** Each Dapr component's azureClientId decision. */
  daprClientIds?: DaprClientIdDecisions;
}

/** The plan as the outcome shows it: what was planned, with what was observed of each grant. */
export function reportPlan(plan: Plan, observed: ObservedGrants = {}): PlanReport {
  const missing = observed.missingDataPlane;
  const decisions = observed.daprClientIds;
  const { roleAssignments, dataPlaneRoleAssignments, dapr, ...planned } = plan;
  return {
    ...planned,
    roleAssignments: [...(observed.roleAssignments ?? roleAssignments)],
    ...(dataPlaneRoleAssignments
      ? { dataPlaneRoleAssignments: dataPlaneRoleAssignments.map((d) => (missing ? { ...d, present: !missing.includes(d) } : { ...d })) }
      : {}),
    ...(dapr
      ? {
          dapr: {
            ...dapr,
            components: dapr.components.map((c) => {
              const clientId = decisions?.get(c.id.toLowerCase());
              return clientId ? { ...c, clientId } : { ...c };
            }),
          },
        }
      : {}),
  };
}
