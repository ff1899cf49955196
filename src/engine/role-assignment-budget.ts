import { subscriptionOf } from '../arm/resource-id';
import type { CallBudget } from './call-budget';
import type { EnginePorts } from './ports';
import type { Plan, PlanBlocker } from './types';

/**
 * The role-assignment budget (issue 22, item 5). Azure allows 4,000 role assignments per subscription and
 * the limit cannot be raised (Learn: role-based-access-control/troubleshoot-limits, "Azure role
 * assignments limit"; the Cloud Adoption Framework lists it as a design limit). When fewer than a reserve
 * remain, the product makes no new grant there: the last slots belong to the teams who need them.
 */
export const ROLE_ASSIGNMENTS_PER_SUBSCRIPTION = 4000;
/** Default reserve (AUTOPILOT_ROLE_ASSIGNMENT_RESERVE). */
export const DEFAULT_ROLE_ASSIGNMENT_RESERVE = 200;
/** The share of the limit at which the count alerts (the metric's alert rule in infra/monitoring/alerts.bicep). */
export const ROLE_ASSIGNMENT_ALERT_RATIO = 0.8;

/** A subscription's role assignments as Resource Graph counts them, and who holds the most when asked. */
export interface RoleAssignmentUsage {
  assignments: number;
  /** The principals holding the most assignments (only read when the budget is short). */
  topConsumers?: Array<{ principalId: string; assignments: number }>;
}

export interface RoleAssignmentBudgetPort {
  /** The count for one subscription (one query, cached briefly); `withConsumers` also reads who holds the most (more pages). */
  usage(subscriptionId: string, call: CallBudget, withConsumers?: boolean): Promise<RoleAssignmentUsage>;
  /** The last count this app read (each sweep reads every governed subscription's), if recent; no call. */
  known(subscriptionId: string): number | undefined;
}

/**
 * Why the plan's new grants may not be made: a subscription of its scopes has fewer than `reserve` slots
 * left. A remediation costs no query while the last sweep's count leaves twice the reserve free; nearer
 * the limit the count is read afresh. Undefined when there is room, when no count is known yet, or when it
 * cannot be read (the budget protects others; it never stops the product on its own failure).
 */
export async function budgetBlocker(
  plan: Plan,
  ports: Pick<EnginePorts, 'roleAssignmentBudget'>,
  reserve: number,
  budget: CallBudget,
): Promise<PlanBlocker | undefined> {
  const port = ports.roleAssignmentBudget;
  if (!port || plan.roleAssignments.length === 0) return undefined;
  const subscriptions = [...new Set(plan.roleAssignments.map((r) => subscriptionOf(r.scope).toLowerCase()).filter(Boolean))];
  for (const subscriptionId of subscriptions) {
    const last = port.known(subscriptionId);
    if (last === undefined || ROLE_ASSIGNMENTS_PER_SUBSCRIPTION - last >= 2 * reserve) continue;
    const usage = await port.usage(subscriptionId, budget).catch(() => undefined);
    if (!usage || ROLE_ASSIGNMENTS_PER_SUBSCRIPTION - usage.assignments >= reserve) continue;
    const top = (await port.usage(subscriptionId, budget, true).catch(() => usage)).topConsumers ?? [];
    return {
      code: 'RoleAssignmentBudget',
      detail: `subscription ${subscriptionId} holds ${usage.assignments} of its ${ROLE_ASSIGNMENTS_PER_SUBSCRIPTION} role assignments; fewer than the reserve of ${reserve} remain, which identity-autopilot leaves to other teams${top.length > 0 ? `. Top consumers: ${top.map((t) => `${t.principalId} (${t.assignments})`).join(', ')}` : ''}`,
      remedy:
        'remove role assignments nobody uses (the sweep lists orphaned ones; lifecycle.revoke: enforce removes those identity-autopilot made), or lower AUTOPILOT_ROLE_ASSIGNMENT_RESERVE',
    };
  }
  return undefined;
}
