import { subscriptionOf } from '../../arm/resource-id';
import type { CallBudget } from '../call-budget';
import type { EnginePorts, ExistingRoleAssignment } from '../ports';
import type { Plan, RoleAssignmentPlan } from '../types';
import { creates, type GrantAction, type GrantKind, type GrantOwner, sameId } from './grant-kind';

/** An Azure role assignment the plan wants, its role resolved. */
export interface ResolvedRoleAssignment extends RoleAssignmentPlan {
  roleDefinitionGuid: string;
  roleDefinitionId: string;
}

/** A resolved role assignment and whether the principal holds it (what plans and outcomes show). */
export interface AssessedRoleAssignment extends ResolvedRoleAssignment {
  present: boolean;
}

export interface RoleAssignmentContext {
  plan: Plan;
  /** The plan's role assignments, resolved (resolveRoles). */
  resolved: readonly ResolvedRoleAssignment[];
  /** The principal the roles are for; undefined until the identity write creates it. */
  principalId?: string;
  /** The principal did not exist before this remediation: it holds nothing, so nothing is listed. */
  principalIsNew: boolean;
}

/** Resolves every role of the plan (custom roles by name, once). Read-only; refuses privileged roles. */
export async function resolveRoles(plan: Plan, ports: EnginePorts, budget: CallBudget): Promise<ResolvedRoleAssignment[]> {
  return Promise.all(
    plan.roleAssignments.map(async (ra) => {
      const role = await ports.roles.resolve(ra.role, subscriptionOf(ra.scope), budget);
      return { ...ra, roleDefinitionGuid: role.roleDefinitionGuid, roleDefinitionId: role.roleDefinitionId };
    }),
  );
}

/** The description every assignment the product makes carries: ARM's own record of whom it was made for. */
export function roleAssignmentDescription(owner: Required<Pick<GrantOwner, 'rule' | 'source' | 'resourceId'>>): string {
  return `identity-autopilot: rule '${owner.rule}', profile '${owner.source}', for ${owner.resourceId}`;
}

const DESCRIPTION = /^identity-autopilot: rule '([^']*)', profile '([^']*)', for (\S+)$/;

/** Whom an assignment was made for, as its description proves; undefined when the product did not make it. */
export function roleAssignmentOwner(existing: ExistingRoleAssignment): Omit<GrantOwner, 'principalId'> | undefined {
  const match = existing.description ? DESCRIPTION.exec(existing.description) : null;
  return match ? { rule: match[1]!, source: match[2]!, resourceId: match[3]! } : undefined;
}

const keyOf = (scope: string, guid: string) => `${scope.toLowerCase()}|${guid.toLowerCase()}`;

/** Azure role assignments (RBAC): one list call per subscription of the desired scopes. */
export const roleAssignmentGrants: GrantKind<RoleAssignmentContext, ResolvedRoleAssignment, ExistingRoleAssignment> = {
  desired: (context) => context.resolved,

  async observe(ports, context, budget) {
    // A principal that did not exist before this remediation holds nothing: no need to look.
    const principalId = context.principalId;
    if (!principalId || context.principalIsNew || context.resolved.length === 0) return [];
    const subscriptions = [...new Set(context.resolved.map((r) => subscriptionOf(r.scope).toLowerCase()))];
    return (await Promise.all(subscriptions.map((s) => ports.roleAssignments.listForPrincipal(s, principalId, budget)))).flat();
  },

  diff(desired, observed, context) {
    const held = new Set(observed.map((o) => keyOf(o.scope, o.roleDefinitionGuid)));
    const wanted = new Set(desired.map((d) => keyOf(d.scope, d.roleDefinitionGuid)));
    const { plan, principalId } = context;
    const actions: GrantAction<ResolvedRoleAssignment, ExistingRoleAssignment>[] = desired
      .filter((d) => !held.has(keyOf(d.scope, d.roleDefinitionGuid)))
      .map((d) => ({ kind: 'create', grant: d, owner: { principalId, resourceId: plan.resourceId, rule: plan.rule, source: d.profile } }));
    for (const o of observed) {
      const proven = roleAssignmentOwner(o);
      // Only what ARM shows the product made (createdBy), for this workload (description), is ever a candidate for removal.
      if (!o.createdByUs || !proven || !sameId(proven.resourceId, plan.resourceId) || wanted.has(keyOf(o.scope, o.roleDefinitionGuid)))
        continue;
      actions.push({ kind: 'remove', grant: o, owner: { principalId, ...proven } });
    }
    return actions;
  },
};

/** Which of the resolved roles the principal holds, and the actions from there (read-only). */
export async function assessRoleAssignments(
  context: RoleAssignmentContext,
  ports: EnginePorts,
  budget: CallBudget,
): Promise<{ assessed: AssessedRoleAssignment[]; actions: GrantAction<ResolvedRoleAssignment, ExistingRoleAssignment>[] }> {
  const actions = roleAssignmentGrants.diff(
    roleAssignmentGrants.desired(context),
    await roleAssignmentGrants.observe(ports, context, budget),
    context,
  );
  const missing = new Set(creates(actions));
  return { assessed: context.resolved.map((r) => ({ ...r, present: !missing.has(r) })), actions };
}
