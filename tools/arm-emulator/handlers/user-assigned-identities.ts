import type { ArmResourceId } from '../../../src/arm/resource-id';
import { ArmError, notFound } from '../arm-error';
import { authorize } from '../authorization';
import type { Principal } from '../directory';
import { type EmulatorState, type Json, key } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

export const UA_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** Who made a write, as ARM records it in `systemData` (common-types v4 `systemData`). */
export interface Creator {
  by: string;
  byType: 'User' | 'Application' | 'ManagedIdentity' | 'Key';
}

/** Seeded identities were made by a person, never by the app under test. */
export const SEED_CREATOR: Creator = { by: 'operator@contoso.example', byType: 'User' };

/**
 * ARM's record of a caller. For service principals ARM documents only "a string identifier for the
 * identity" (ARM RPC common-api-contracts.md, "System Metadata"); the emulator uses the client id.
 */
export function creatorOf(principal: Principal): Creator {
  return principal.type === 'User'
    ? { by: principal.id, byType: 'User' }
    : { by: principal.clientId ?? principal.id, byType: 'Application' };
}

function systemData(created: Creator, modified: Creator, createdAt: string): Json {
  const now = new Date().toISOString();
  return {
    createdBy: created.by,
    createdByType: created.byType,
    createdAt,
    lastModifiedBy: modified.by,
    lastModifiedByType: modified.byType,
    lastModifiedAt: now,
  };
}

/** Creates the resource body and its principal, as the MSI RP does on first PUT (with ARM's systemData). */
export function createUserAssignedIdentityRecord(
  state: EmulatorState,
  id: string,
  name: string,
  location: string,
  tags?: Json,
  creator: Creator = SEED_CREATOR,
): Json {
  const principal = state.directory.create({ displayName: name });
  return {
    id,
    name,
    type: UA_TYPE,
    location,
    tags: tags ?? {},
    properties: { tenantId: state.tenantId, principalId: principal.id, clientId: principal.clientId, isolationScope: 'None' },
    systemData: systemData(creator, creator, new Date().toISOString()),
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
      // Conditional create (RFC 9110 §13.1.2; ARM RPC: PUT with `If-None-Match: *` must not overwrite an
      // existing resource). The MSI spec (2024-11-30) does not declare the header; whether the MSI RP
      // honours it is not documented, so the emulator is the stricter of the two and enforces it. The
      // product also refuses to adopt an identity that a 200 (header ignored) reveals as someone else's.
      if (existing && req.headers?.['if-none-match']?.trim() === '*') {
        throw new ArmError(412, 'PreconditionFailed', `The resource '${id.id}' already exists and the request has If-None-Match: *.`);
      }
      if (existing) {
        const created = existing.body.systemData ?? {};
        existing.body = {
          ...existing.body,
          tags: input.tags ?? existing.body.tags,
          systemData: systemData({ by: created.createdBy, byType: created.createdByType }, creatorOf(req.principal), created.createdAt),
        };
        return { status: 200, body: existing.body };
      }
      const body = createUserAssignedIdentityRecord(ctx.state, id.id, id.name!, input.location, input.tags, creatorOf(req.principal));
      ctx.state.resources.set(key(id.id), { id: id.id, body });
      return { status: 201, body };
    }
    case 'DELETE':
      authorize(ctx.state, req.principal, access('delete'));
      if (!existing) return { status: 204 };
      ctx.state.deleteResource(id.id);
      return { status: 200 };
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported on '${UA_TYPE}'.`);
  }
}

/** List by subscription or resource group (one page; the estate in tests is small). */
export function listUserAssignedIdentities(ctx: HandlerContext, req: EmulatorRequest, scope: string): EmulatorResponse {
  authorize(ctx.state, req.principal, { action: `${UA_TYPE}/read`, scope });
  const prefix = `${key(scope)}/`;
  const value = [...ctx.state.resources.values()].filter((r) => r.body.type === UA_TYPE && key(r.id).startsWith(prefix)).map((r) => r.body);
  return { status: 200, body: { value } };
}
