import { ArmError } from './arm-error';
import { type EmulatorState, type Json, key } from './state';

/**
 * Which kinds a stored `identity.type` holds. Stored values were validated against their RP's own enum
 * on the way in, so reading them back needs no spelling rules of its own.
 */
export function identityKinds(type: unknown): { system: boolean; user: boolean } {
  const t = typeof type === 'string' ? type : '';
  return { system: t.includes('SystemAssigned'), user: t.includes('UserAssigned') };
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
  // Exactly one of the RP spec's enum values, spelling included: Web, Compute and ACI spell the combined
  // kind "SystemAssigned, UserAssigned", Container Apps "SystemAssigned,UserAssigned" (see each model's
  // identityTypes). No case folding or space trimming: stricter than an RP that might tolerate it.
  const type = typeof requested.type === 'string' ? requested.type : undefined;
  if (!type || !allowedTypes.includes(type)) {
    throw new ArmError(
      400,
      'InvalidIdentityType',
      `The identity type '${String(requested.type).slice(0, 100)}' is not valid for this resource type. Supported values: ${allowedTypes.map((t) => `'${t}'`).join(', ')}.`,
    );
  }
  const kinds = identityKinds(type);
  if (type === 'None') {
    if (current?.principalId) state.directory.remove(String(current.principalId));
    return { identity: { type: 'None' }, attached: [] };
  }

  const next: Json = { type };
  const attached: string[] = [];
  if (kinds.user) {
    const requestedIds = Object.entries((requested.userAssignedIdentities ?? {}) as Json)
      .filter(([, v]) => v !== null)
      .map(([id]) => id);
    if (requestedIds.length === 0) {
      throw new ArmError(
        400,
        'BadRequest',
        "The 'userAssignedIdentities' property must list at least one identity when the type includes 'UserAssigned'.",
      );
    }
    const currentIds = new Set(Object.keys((current?.userAssignedIdentities ?? {}) as Json).map(key));
    next.userAssignedIdentities = {};
    for (const id of requestedIds) {
      const ua = state.resource(id);
      if (ua?.body.type !== 'Microsoft.ManagedIdentity/userAssignedIdentities') {
        throw new ArmError(400, 'FailedIdentityOperation', `Identity '${id}' was not found or is not a user-assigned identity.`);
      }
      if (!currentIds.has(key(id))) attached.push(ua.id);
      next.userAssignedIdentities[ua.id] = { principalId: ua.body.properties.principalId, clientId: ua.body.properties.clientId };
    }
  }
  authorizeAttach(attached);
  if (kinds.system) {
    const keep = identityKinds(current?.type).system && current?.principalId;
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
