import { isGuid, parseArmId, subscriptionOf } from '../../../src/arm/resource-id';
import { ArmError } from '../arm-error';
import { authorize } from '../authorization';
import { type Json, key, type RoleAssignmentRecord } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

const WRITE = 'Microsoft.Authorization/roleAssignments/write';
const DELETE = 'Microsoft.Authorization/roleAssignments/delete';
const READ = 'Microsoft.Authorization/roleAssignments/read';
/** Azure's limit per subscription (newer docs say 5,000; the lower figure is the safe one). */
export const ROLE_ASSIGNMENTS_PER_SUBSCRIPTION = 4000;

export function roleAssignmentBody(record: RoleAssignmentRecord): Json {
  const sub = subscriptionOf(record.scope);
  const properties: Json = {
    scope: record.scope,
    roleDefinitionId: `${sub ? `/subscriptions/${sub}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${record.roleDefinitionGuid}`,
    principalId: record.principalId,
    principalType: record.principalType,
    createdOn: record.createdOn,
    updatedOn: record.createdOn,
    createdBy: record.createdBy,
    updatedBy: record.createdBy,
  };
  if (record.description !== undefined) properties.description = record.description;
  if (record.condition !== undefined) {
    properties.condition = record.condition;
    properties.conditionVersion = record.conditionVersion ?? '2.0';
  }
  return { id: record.id, name: record.name, type: 'Microsoft.Authorization/roleAssignments', properties };
}

/** A role assignment's scope must exist, as ARM checks before writing. */
function requireScope(ctx: HandlerContext, scope: string): void {
  const id = parseArmId(scope);
  const exists =
    id.kind === 'subscription'
      ? ctx.state.subscriptions.has(id.subscriptionId!.toLowerCase())
      : id.kind === 'resourceGroup'
        ? ctx.state.resourceGroups.has(key(scope))
        : id.kind === 'resource'
          ? ctx.state.resource(scope) !== undefined
          : false;
  if (!exists) throw new ArmError(404, 'ResourceNotFound', `The scope '${scope}' does not exist or cannot be found.`);
}

function roleGuidFrom(roleDefinitionId: unknown): string {
  const guid = typeof roleDefinitionId === 'string' ? roleDefinitionId.split('/').pop() : undefined;
  if (!guid || !isGuid(guid)) {
    throw new ArmError(400, 'InvalidRoleDefinitionId', `The role definition ID '${String(roleDefinitionId)}' is not valid.`);
  }
  return guid.toLowerCase();
}

function put(ctx: HandlerContext, req: EmulatorRequest, scope: string, name: string): EmulatorResponse {
  if (!isGuid(name)) {
    throw new ArmError(
      400,
      'InvalidRoleAssignmentId',
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
    );
  }
  const props = req.body?.properties;
  if (!props || typeof props !== 'object') throw new ArmError(400, 'InvalidRequestContent', "The request body must contain 'properties'.");
  if (typeof props.principalId !== 'string' || !isGuid(props.principalId)) {
    throw new ArmError(400, 'InvalidPrincipalId', 'A valid principal ID must be provided for role assignment.');
  }
  const roleGuid = roleGuidFrom(props.roleDefinitionId);
  requireScope(ctx, scope);
  const principalType = typeof props.principalType === 'string' ? props.principalType : undefined;
  const principal = ctx.state.directory.get(props.principalId);
  authorize(ctx.state, req.principal, {
    action: WRITE,
    scope,
    request: {
      'Microsoft.Authorization/roleAssignments:RoleDefinitionId': roleGuid,
      'Microsoft.Authorization/roleAssignments:PrincipalId': props.principalId,
      'Microsoft.Authorization/roleAssignments:PrincipalType': principalType ?? principal?.type,
    },
  });
  if (!ctx.state.roleDefinitions.has(roleGuid)) {
    throw new ArmError(400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${roleGuid}' does not exist.`);
  }
  if (!ctx.state.directory.isReplicated(props.principalId)) {
    throw new ArmError(
      400,
      'PrincipalNotFound',
      `Principal ${props.principalId.replace(/-/g, '')} does not exist in the directory ${ctx.state.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    );
  }
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  const existing = ctx.state.roleAssignments.get(key(id));
  if (existing) {
    const same =
      key(existing.scope) === key(scope) &&
      existing.roleDefinitionGuid === roleGuid &&
      existing.principalId.toLowerCase() === props.principalId.toLowerCase();
    if (!same) {
      throw new ArmError(
        400,
        'RoleAssignmentUpdateNotPermitted',
        'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
      );
    }
    return { status: 200, body: roleAssignmentBody(existing) };
  }
  const duplicate = [...ctx.state.roleAssignments.values()].find(
    (a) =>
      key(a.scope) === key(scope) && a.roleDefinitionGuid === roleGuid && a.principalId.toLowerCase() === props.principalId.toLowerCase(),
  );
  if (duplicate) throw new ArmError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
  const sub = subscriptionOf(scope).toLowerCase();
  const inSubscription = [...ctx.state.roleAssignments.values()].filter((a) => subscriptionOf(a.scope).toLowerCase() === sub).length;
  if (inSubscription >= ROLE_ASSIGNMENTS_PER_SUBSCRIPTION) {
    throw new ArmError(400, 'RoleAssignmentLimitExceeded', `No more role assignments can be created in subscription '${sub}'.`);
  }
  const record: RoleAssignmentRecord = {
    id,
    name,
    scope,
    roleDefinitionGuid: roleGuid,
    principalId: props.principalId,
    principalType: principalType ?? principal?.type ?? 'ServicePrincipal',
    description: typeof props.description === 'string' ? props.description : undefined,
    condition: typeof props.condition === 'string' ? props.condition : undefined,
    conditionVersion: typeof props.conditionVersion === 'string' ? props.conditionVersion : undefined,
    createdOn: new Date().toISOString(),
    createdBy: req.principal.id,
    effectiveAt: ctx.state.rbacPropagationDelayMs > 0 ? Date.now() + ctx.state.rbacPropagationDelayMs : undefined,
  };
  ctx.state.roleAssignments.set(key(id), record);
  return { status: 201, body: roleAssignmentBody(record) };
}

/** `atScope()`, `principalId eq '{id}'`, `assignedTo('{id}')`, joined by `and`. */
function parseFilter(filter: string | null): { atScope: boolean; principalId?: string } {
  const result: { atScope: boolean; principalId?: string } = { atScope: false };
  if (!filter) return result;
  for (const clause of filter.split(/\s+and\s+/i)) {
    const c = clause.trim();
    let m: RegExpExecArray | null;
    if (/^atScope\(\)$/i.test(c)) result.atScope = true;
    else if ((m = /^principalId\s+eq\s+'([0-9a-f-]{36})'$/i.exec(c))) result.principalId = m[1];
    else if ((m = /^assignedTo\('([0-9a-f-]{36})'\)$/i.exec(c))) result.principalId = m[1];
    else throw new ArmError(400, 'UnsupportedQuery', `The filter '${filter}' is not supported.`);
  }
  return result;
}

function list(ctx: HandlerContext, req: EmulatorRequest, scope: string): EmulatorResponse {
  authorize(ctx.state, req.principal, { action: READ, scope: scope || '/' });
  const filter = parseFilter(req.query.get('$filter'));
  const target = key(scope);
  const value = [...ctx.state.roleAssignments.values()]
    .filter((a) => {
      const s = key(a.scope);
      const above = target === s || target.startsWith(`${s}/`);
      const below = s.startsWith(`${target}/`);
      if (!(above || (below && !filter.atScope))) return false;
      return !filter.principalId || a.principalId.toLowerCase() === filter.principalId.toLowerCase();
    })
    .map(roleAssignmentBody);
  return { status: 200, body: { value } };
}

export function handleRoleAssignments(ctx: HandlerContext, req: EmulatorRequest, scope: string, name?: string): EmulatorResponse {
  if (name === undefined) {
    if (req.method !== 'GET')
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on a role-assignment list.`);
    return list(ctx, req, scope);
  }
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  switch (req.method) {
    case 'PUT':
      return put(ctx, req, scope, name);
    case 'GET': {
      authorize(ctx.state, req.principal, { action: READ, scope });
      const record = ctx.state.roleAssignments.get(key(id));
      if (!record) throw new ArmError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
      return { status: 200, body: roleAssignmentBody(record) };
    }
    case 'DELETE': {
      const record = ctx.state.roleAssignments.get(key(id));
      authorize(ctx.state, req.principal, {
        action: DELETE,
        scope,
        resource: record
          ? {
              'Microsoft.Authorization/roleAssignments:RoleDefinitionId': record.roleDefinitionGuid,
              'Microsoft.Authorization/roleAssignments:PrincipalId': record.principalId,
              'Microsoft.Authorization/roleAssignments:PrincipalType': record.principalType,
            }
          : {},
      });
      if (!record) return { status: 204 };
      ctx.state.roleAssignments.delete(key(id));
      return { status: 200, body: roleAssignmentBody(record) };
    }
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on role assignments.`);
  }
}
