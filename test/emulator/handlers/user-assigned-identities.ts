import type { ArmResourceId } from '../../../src/arm/resource-id';
import { ArmError, notFound } from '../arm-error';
import { authorize } from '../authorization';
import { type EmulatorState, type Json, key } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

export const UA_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** Creates the resource body and its principal, as the MSI RP does on first PUT. */
export function createUserAssignedIdentityRecord(state: EmulatorState, id: string, name: string, location: string, tags?: Json): Json {
  const principal = state.directory.create({ displayName: name });
  return {
    id,
    name,
    type: UA_TYPE,
    location,
    tags: tags ?? {},
    properties: { tenantId: state.tenantId, principalId: principal.id, clientId: principal.clientId, isolationScope: 'None' },
  };
}

export function handleUserAssignedIdentity(ctx: HandlerContext, req: EmulatorRequest, id: ArmResourceId): EmulatorResponse {
  const rgId = `/subscriptions/${id.subscriptionId}/resourceGroups/${id.resourceGroup}`;
  if (!ctx.state.resourceGroups.has(key(rgId))) {
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${id.resourceGroup}' could not be found.`);
  }
  const existing = ctx.state.resource(id.id);
  const access = (verb: string) => ({ action: `${UA_TYPE}/${verb}`, scope: id.id });
  switch (req.method) {
    case 'GET':
      authorize(ctx.state, req.principal, access('read'));
      if (!existing) throw notFound(UA_TYPE, id.name!, id.resourceGroup);
      return { status: 200, body: existing.body };
    case 'PUT': {
      authorize(ctx.state, req.principal, access('write'));
      const input = req.body;
      if (!input || typeof input !== 'object' || typeof input.location !== 'string') {
        throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
      }
      if (existing) {
        existing.body = { ...existing.body, tags: input.tags ?? existing.body.tags };
        return { status: 200, body: existing.body };
      }
      const body = createUserAssignedIdentityRecord(ctx.state, id.id, id.name!, input.location, input.tags);
      ctx.state.resources.set(key(id.id), { id: id.id, body });
      return { status: 201, body };
    }
    case 'DELETE':
      authorize(ctx.state, req.principal, access('delete'));
      if (!existing) return { status: 204 };
      ctx.state.directory.remove(existing.body.properties.principalId);
      ctx.state.resources.delete(key(id.id));
      return { status: 200 };
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported on '${UA_TYPE}'.`);
  }
}

/** List by subscription or resource group (one page; the estate in tests is small). */
export function listUserAssignedIdentities(ctx: HandlerContext, req: EmulatorRequest, scope: string): EmulatorResponse {
  authorize(ctx.state, req.principal, { action: `${UA_TYPE}/read`, scope });
  const prefix = `${key(scope)}/`;
  const value = [...ctx.state.resources.values()]
    .filter((r) => r.body.type === UA_TYPE && key(r.id).startsWith(prefix))
    .map((r) => r.body);
  return { status: 200, body: { value } };
}
