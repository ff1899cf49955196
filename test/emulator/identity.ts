import { ArmError } from './arm-error';
import { type EmulatorState, type Json, key } from './state';

const CANONICAL: Record<string, string> = {
  none: 'None',
  systemassigned: 'SystemAssigned',
  userassigned: 'UserAssigned',
  'systemassigned,userassigned': 'SystemAssigned, UserAssigned',
};

export function canonicalIdentityType(type: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  return CANONICAL[type.replace(/\s+/g, '').toLowerCase()];
}

export interface IdentityWriteResult {
  identity: Json | undefined;
  /** User-assigned identity ids newly attached by this write (they need assign/action). */
  attached: string[];
}

/**
 * Applies a requested `identity` block the way ARM resource providers do: the block replaces the
 * current one, so `SystemAssigned` alone drops every user-assigned identity, and a system-assigned
 * principal is created when the identity first appears and kept while it stays.
 */
export function applyIdentity(
  state: EmulatorState,
  current: Json | undefined,
  requested: Json,
  allowedTypes: readonly string[],
  /** Called with the identities to attach before anything changes, so a refusal writes nothing. */
  authorizeAttach: (userAssignedIds: string[]) => void = () => undefined,
): IdentityWriteResult {
  if (typeof requested !== 'object' || requested === null || Array.isArray(requested)) {
    throw new ArmError(400, 'InvalidIdentity', "The 'identity' property must be an object.");
  }
  const type = canonicalIdentityType(requested.type);
  if (!type) throw new ArmError(400, 'InvalidIdentityType', `The identity type '${String(requested.type)}' is not valid.`);
  if (!allowedTypes.includes(type)) {
    throw new ArmError(400, 'InvalidIdentityType', `The identity type '${type}' is not supported for this resource type. Supported: ${allowedTypes.join(', ')}.`);
  }
  if (type === 'None') {
    if (current?.principalId) state.directory.remove(String(current.principalId));
    return { identity: { type: 'None' }, attached: [] };
  }

  const next: Json = { type };
  const attached: string[] = [];
  if (type.includes('UserAssigned')) {
    const requestedIds = Object.entries((requested.userAssignedIdentities ?? {}) as Json)
      .filter(([, v]) => v !== null)
      .map(([id]) => id);
    if (requestedIds.length === 0) {
      throw new ArmError(400, 'BadRequest', "The 'userAssignedIdentities' property must list at least one identity when the type includes 'UserAssigned'.");
    }
    const currentIds = new Set(Object.keys((current?.userAssignedIdentities ?? {}) as Json).map(key));
    next.userAssignedIdentities = {};
    for (const id of requestedIds) {
      const ua = state.resource(id);
      if (!ua || ua.body.type !== 'Microsoft.ManagedIdentity/userAssignedIdentities') {
        throw new ArmError(400, 'FailedIdentityOperation', `Identity '${id}' was not found or is not a user-assigned identity.`);
      }
      if (!currentIds.has(key(id))) attached.push(ua.id);
      next.userAssignedIdentities[ua.id] = { principalId: ua.body.properties.principalId, clientId: ua.body.properties.clientId };
    }
  }
  authorizeAttach(attached);
  if (type.includes('SystemAssigned')) {
    const keep = canonicalIdentityType(current?.type)?.includes('SystemAssigned') && current?.principalId;
    if (keep) {
      next.principalId = current!.principalId;
      next.tenantId = current!.tenantId;
    } else {
      const principal = state.directory.create({ displayName: 'system-assigned identity' });
      next.principalId = principal.id;
      next.tenantId = state.tenantId;
    }
  }
  const droppedPrincipal = current?.principalId && !next.principalId ? String(current.principalId) : undefined;
  if (droppedPrincipal) state.directory.remove(droppedPrincipal);
  return { identity: next, attached };
}
