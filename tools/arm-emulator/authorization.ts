import { isWithinScope } from '../../src/arm/resource-id';
import { evaluateCondition } from './abac-condition';
import { ArmError } from './arm-error';
import type { Principal } from './directory';
import { permits } from './role-definitions';
import type { EmulatorState } from './state';

export interface AccessRequest {
  action: string;
  scope: string;
  /** ABAC attributes of the request (for roleAssignments/write). */
  request?: Record<string, string | undefined>;
  /** ABAC attributes of the existing resource (for roleAssignments/delete). */
  resource?: Record<string, string | undefined>;
}

/**
 * Azure RBAC as the emulator enforces it: an action is allowed when some role assignment of the
 * caller, at the target scope or above, grants it and its ABAC condition (if any) holds.
 */
export function isAllowed(state: EmulatorState, principal: Principal, access: AccessRequest): boolean {
  const now = Date.now();
  return state.assignmentsFor(principal.id).some((assignment) => {
    // Not yet in ARM's authorization cache (see RoleAssignmentRecord.effectiveAt).
    if (assignment.effectiveAt !== undefined && assignment.effectiveAt > now) return false;
    if (!isWithinScope(access.scope, assignment.scope) && !inheritedFromManagementGroup(state, access.scope, assignment.scope))
      return false;
    const definition = state.roleDefinitions.get(assignment.roleDefinitionGuid);
    if (!definition || !permits(definition, access.action)) return false;
    if (!assignment.condition) return true;
    try {
      return evaluateCondition(assignment.condition, {
        action: access.action,
        request: access.request ?? {},
        resource: access.resource ?? {},
      });
    } catch {
      return false;
    }
  });
}

const MG_SCOPE = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i;

/**
 * Azure RBAC inherits down the management group hierarchy: an assignment on a group applies to its
 * child groups, their subscriptions and everything in them (Learn: governance/management-groups/overview,
 * "Management group access"). Stricter than nothing: the chain is the emulator's current hierarchy, so a
 * subscription moved out loses what its old group granted at once.
 */
function inheritedFromManagementGroup(state: EmulatorState, target: string, assignmentScope: string): boolean {
  const granted = MG_SCOPE.exec(assignmentScope)?.[1]?.toLowerCase();
  if (!granted) return false;
  const mg = MG_SCOPE.exec(
    target.replace(
      /\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)\/.*$/i,
      '/providers/Microsoft.Management/managementGroups/$1',
    ),
  )?.[1];
  const sub = /^\/subscriptions\/([^/]+)/i.exec(target)?.[1];
  const start = mg ?? (sub ? state.parentOf('subscription', sub) : undefined);
  return start !== undefined && state.managementGroupChain(start).some((g) => g.toLowerCase() === granted);
}

export function authorize(state: EmulatorState, principal: Principal, access: AccessRequest): void {
  if (isAllowed(state, principal, access)) return;
  const conditional = access.request || access.resource ? ' or the condition on the assignment was not met' : '';
  throw new ArmError(
    403,
    'AuthorizationFailed',
    `The client '${principal.id}' with object id '${principal.id}' does not have authorization to perform action '${access.action}' over scope '${access.scope}' or the scope is invalid${conditional}. If access was recently granted, please refresh your credentials.`,
  );
}

/** Attaching a user-assigned identity is a linked check on the identity itself. */
export function authorizeLinked(state: EmulatorState, principal: Principal, access: AccessRequest): void {
  if (isAllowed(state, principal, access)) return;
  throw new ArmError(
    403,
    'LinkedAuthorizationFailed',
    // ARM's wording (Azure/aad-pod-identity#511): "... has permission to perform action '<a>' on scope
    // '<s>'; however, it does not have permission to perform action(s) '<b>' on the linked scope(s) '<l>'
    // (respectively) or the linked scope(s) are invalid."
    `The client '${principal.id}' with object id '${principal.id}' has permission to perform the requested action on the resource; however, it does not have permission to perform action(s) '${access.action}' on the linked scope(s) '${access.scope}' (respectively) or the linked scope(s) are invalid.`,
  );
}
