import { ArmError } from '../arm-error';
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
  throw new ArmError(400, 'UnsupportedQuery', `The filter '${filter}' is not supported. Supported: roleName eq '{name}', type eq '{BuiltInRole|CustomRole}'.`);
}

export function handleRoleDefinitions(ctx: HandlerContext, req: EmulatorRequest, scope: string, guid?: string): EmulatorResponse {
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'Only GET of role definitions is emulated.');
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
