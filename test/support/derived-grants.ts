import assert from 'node:assert/strict';
import { buildRoleAssignmentCondition, deriveAppPermissions } from '../../scripts/infra/permissions';
import type { RulesConfig } from '../../src/config';
import type { EmulatorFixture } from './emulator-fixture';

/**
 * Grants the app principal, at `/subscriptions/{sub}`, what main.bicep's engine-permissions module
 * grants: the engine role and the conditional delegation (the role assigner custom role main.bicep
 * creates, unless `delegationRole` says otherwise), and each scoped role at its scopes. Nothing else:
 * Owner is never given.
 */
export function grantDerived(
  env: EmulatorFixture,
  rules: RulesConfig,
  subscriptionId: string,
  options: { delegationRole?: string; customRoleGuids?: Map<string, string> } = {},
): ReturnType<typeof deriveAppPermissions> & { delegationRole: string } {
  const permissions = deriveAppPermissions(rules, { customRoleGuids: options.customRoleGuids });
  assert.ok(permissions.subscriptions.includes(subscriptionId), `the rules govern ${subscriptionId}`);
  const state = env.emulator.state;
  const engineRole = state.addCustomRole({
    roleName: `identity-autopilot engine (test, ${subscriptionId.slice(0, 8)})`,
    actions: permissions.actions,
  });
  const scope = `/subscriptions/${subscriptionId}`;
  const app = env.emulator.appPrincipal.id;
  state.grant({ principalId: app, roleDefinitionGuid: engineRole.guid, scope });
  const condition = buildRoleAssignmentCondition(permissions.assignableRoleGuids);
  const delegationRole =
    options.delegationRole ??
    state.addCustomRole({
      roleName: `identity-autopilot role assigner (test, ${subscriptionId.slice(0, 8)})`,
      actions: permissions.roleAssignerActions,
    }).guid;
  state.grant({ principalId: app, roleDefinitionGuid: delegationRole, scope, condition });
  // main.bicep's scoped roles (federated credentials, identity deletes, Cosmos DB SQL role assignments,
  // Dapr component writes): each only at the scopes the rules' bounds allow, in this subscription.
  for (const grant of permissions.scopedGrants) {
    const role = state.addCustomRole({
      roleName: `identity-autopilot ${grant.roleName} (test, ${subscriptionId.slice(0, 8)})`,
      actions: grant.actions,
    });
    for (const at of grant.scopes.filter((s) => `${s}/`.startsWith(`${scope.toLowerCase()}/`)))
      state.grant({ principalId: app, roleDefinitionGuid: role.guid, scope: at });
  }
  return { ...permissions, delegationRole };
}
