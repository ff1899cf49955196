import { ArmError } from '../arm-error';
import { authorize } from '../authorization';
import type { RoleDefinitionRecord } from '../role-definitions';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

export function roleDefinitionBody(def: RoleDefinitionRecord, scope: string) {
  const prefix = scope === '' || scope === '/' ? '' : scope;
  return {
    id: `${prefix}/providers/Microsoft.Authorization/roleDefinitions/${def.guid}`,
    name: def.guid,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: def.roleName,
      type: def.roleType,
      description: def.description,
      assignableScopes: def.assignableScopes,
      permissions: def.permissions.map((p) => ({ actions: p.actions, notActions: p.notActions, dataActions: [], notDataActions: [] })),
    },
  };
}

/** `$filter=roleName eq 'X'` or `type eq 'BuiltInRole'|'CustomRole'`, the filters the API supports. */
function parseFilter(filter: string | null): (def: RoleDefinitionRecord) => boolean {
  if (!filter) return () => true;
  const byName = /^\s*roleName\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
  if (byName) return (d) => d.roleName.toLowerCase() === byName[1]!.replace(/''/g, "'").toLowerCase();
  const byType = /^\s*type\s+eq\s+'(BuiltInRole|CustomRole)'\s*$/i.exec(filter);
  if (byType) return (d) => d.roleType.toLowerCase() === byType[1]!.toLowerCase();
  throw new ArmError(
    400,
    'UnsupportedQuery',
    `The filter '${filter}' is not supported. Supported: roleName eq '{name}', type eq '{BuiltInRole|CustomRole}'.`,
  );
}

export function handleRoleDefinitions(ctx: HandlerContext, req: EmulatorRequest, scope: string, guid?: string): EmulatorResponse {
  if (req.method === 'DELETE' && guid !== undefined) return deleteRoleDefinition(ctx, req, scope, guid);
  if (req.method !== 'GET')
    throw new ArmError(405, 'MethodNotAllowed', 'Only GET of role definitions, and DELETE of a custom one, are emulated.');
  // Role definitions are readable by any authenticated principal of the tenant, as in Azure.
  if (guid !== undefined) {
    const def = ctx.state.roleDefinitions.get(guid.toLowerCase());
    if (!def) throw new ArmError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${guid}' does not exist.`);
    return { status: 200, body: roleDefinitionBody(def, scope) };
  }
  const keep = parseFilter(req.query.get('$filter'));
  const value = [...ctx.state.roleDefinitions.values()].filter(keep).map((d) => roleDefinitionBody(d, scope));
  return { status: 200, body: { value } };
}

/**
 * DELETE {scope}/providers/Microsoft.Authorization/roleDefinitions/{id} (RoleDefinitions_Delete,
 * Azure/azure-rest-api-specs authorization 2022-04-01, example DeleteRoleDefinition.json: 200 with the
 * deleted definition, 204 when there is none). Needs roleDefinitions/delete at the scope. A custom role
 * that any role assignment still uses is refused with RoleDefinitionHasAssignments ("There are existing
 * role assignments referencing role", Learn role-based-access-control/custom-roles.md; the status 409 is
 * our choice, the page gives none). Stricter than documented: a built-in role, or a scope outside the role's
 * assignable scopes, is refused rather than guessed at.
 */
function deleteRoleDefinition(ctx: HandlerContext, req: EmulatorRequest, scope: string, guid: string): EmulatorResponse {
  authorize(ctx.state, req.principal, { action: 'Microsoft.Authorization/roleDefinitions/delete', scope });
  const def = ctx.state.roleDefinitions.get(guid.toLowerCase());
  if (!def) return { status: 204 };
  if (def.roleType !== 'CustomRole')
    throw new ArmError(403, 'AuthorizationFailed', `The built-in role definition '${guid}' cannot be deleted.`);
  const at = scope.toLowerCase();
  const visible = def.assignableScopes.some((s) => s === '/' || at === s.toLowerCase() || at.startsWith(`${s.toLowerCase()}/`));
  if (!visible) {
    throw new ArmError(
      400,
      'InvalidRoleDefinitionScope',
      `The role definition '${guid}' is not assignable at scope '${scope}'; delete it at one of its assignable scopes.`,
    );
  }
  const inUse = [...ctx.state.roleAssignments.values()].some((a) => a.roleDefinitionGuid.toLowerCase() === def.guid.toLowerCase());
  if (inUse) throw new ArmError(409, 'RoleDefinitionHasAssignments', 'There are existing role assignments referencing role.');
  ctx.state.roleDefinitions.delete(def.guid);
  return { status: 200, body: roleDefinitionBody(def, scope) };
}
