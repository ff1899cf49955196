import { AutopilotError } from '../errors';
import { roleDefinitionIdFor, roleGuidFromDefinitionId } from '../arm/role-definition-id';
import { isGuid } from '../arm/resource-id';
import builtinRoles from './builtin-roles.json';
import type { RoleRef } from './types';

export { roleDefinitionIdFor, roleGuidFromDefinitionId };

/**
 * Built-in roles that let their holder grant access to others. A product that hands these out
 * would turn "a new web app" into "a new tenant admin", so they are refused at load (by name, GUID
 * or id) and again after a custom role name is resolved.
 */
export const PRIVILEGED_ROLE_DEFINITION_GUIDS: ReadonlySet<string> = new Set([
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', // Owner
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', // User Access Administrator
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168', // Role Based Access Control Administrator
]);

export interface BuiltinRole {
  readonly roleName: string;
  /** The role definition GUID (the same in every tenant). */
  readonly id: string;
}

const BY_NAME = new Map<string, BuiltinRole>();
const BY_ID = new Map<string, BuiltinRole>();
for (const role of builtinRoles as BuiltinRole[]) {
  BY_NAME.set(role.roleName.toLowerCase(), role);
  BY_ID.set(role.id.toLowerCase(), role);
}

export function isPrivilegedRoleGuid(guid: string): boolean {
  return PRIVILEGED_ROLE_DEFINITION_GUIDS.has(guid.toLowerCase());
}

/** Case-insensitive, like the portal and the CLI. */
export function builtinRoleByName(name: string): BuiltinRole | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

export function builtinRoleById(guid: string): BuiltinRole | undefined {
  return BY_ID.get(guid.toLowerCase());
}

/** The outcome of reading one `role:` / `customRole:` entry: a reference or the reason it is refused. */
export type RoleRefParse = { ok: true; ref: RoleRef } | { ok: false; reason: string };

const privilegedReason = (what: string) =>
  `${what} grants the right to assign roles, which identity-autopilot never hands out`;

/** Reads a `role:` value: a built-in role name, a role definition GUID, or a full role definition id. */
export function parseRoleValue(value: string): RoleRefParse {
  const trimmed = value.trim();
  const guid = isGuid(trimmed) ? trimmed.toLowerCase() : roleGuidFromDefinitionId(trimmed);
  if (guid) {
    const builtin = builtinRoleById(guid);
    if (isPrivilegedRoleGuid(guid)) return { ok: false, reason: privilegedReason(`role '${builtin?.roleName ?? guid}'`) };
    return builtin
      ? { ok: true, ref: { kind: 'builtin', roleDefinitionGuid: guid, displayName: builtin.roleName } }
      : { ok: true, ref: { kind: 'id', roleDefinitionGuid: guid, displayName: guid } };
  }
  if (trimmed.toLowerCase().includes('/roledefinitions/')) {
    return { ok: false, reason: `'${trimmed}' is not a well-formed role definition id` };
  }
  const builtin = builtinRoleByName(trimmed);
  if (!builtin) {
    return {
      ok: false,
      reason: `'${trimmed}' is not a built-in role name; write 'customRole: ${trimmed}' for a custom role`,
    };
  }
  if (isPrivilegedRoleGuid(builtin.id)) return { ok: false, reason: privilegedReason(`role '${builtin.roleName}'`) };
  return { ok: true, ref: { kind: 'builtin', roleDefinitionGuid: builtin.id.toLowerCase(), displayName: builtin.roleName } };
}

/** Reads a `customRole:` value. Built-in names are refused so a privileged one cannot slip through here. */
export function parseCustomRoleValue(value: string): RoleRefParse {
  const trimmed = value.trim();
  const builtin = builtinRoleByName(trimmed);
  if (builtin && isPrivilegedRoleGuid(builtin.id)) return { ok: false, reason: privilegedReason(`role '${builtin.roleName}'`) };
  if (builtin) return { ok: false, reason: `'${builtin.roleName}' is a built-in role; write 'role: ${builtin.roleName}'` };
  return { ok: true, ref: { kind: 'custom', roleName: trimmed } };
}

/** The one API call role resolution needs; the Azure adapter implements it. */
export interface RoleDefinitionLookup {
  findRoleDefinitionByName(scope: string, roleName: string, signal?: AbortSignal): Promise<FoundRoleDefinition | undefined>;
  /** A role definition by GUID (for GUIDs that are not built-in roles). */
  getRoleDefinition(scope: string, guid: string, signal?: AbortSignal): Promise<FoundRoleDefinition | undefined>;
}

export interface FoundRoleDefinition {
  id: string;
  name: string;
  /** Control-plane permissions, to refuse custom roles that can grant access. */
  permissions?: ReadonlyArray<{ actions?: readonly string[]; notActions?: readonly string[] }>;
}

/** Actions that let a holder grant access, or elevate: a role allowing any of them is privileged. */
const ACCESS_CONTROL_ACTIONS = [
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.Authorization/roleDefinitions/write',
  'Microsoft.Authorization/elevateAccess/action',
];

// Azure RBAC's action wildcards: `*` matches anything, and a `/*/` segment also matches a single `/`
// (`userAssignedIdentities/*/assign/action` covers `userAssignedIdentities/assign/action`).
// Case-insensitive, like every action name.
export function actionMatches(pattern: string, action: string): boolean {
  const escaped = pattern
    .split('/*/')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
    .join('(?:/.*)?/');
  return new RegExp(`^${escaped}$`, 'i').test(action);
}

/** True when the permissions allow any action that grants access (after their notActions). */
export function grantsAccessControl(permissions: FoundRoleDefinition['permissions']): boolean {
  return (permissions ?? []).some((p) =>
    ACCESS_CONTROL_ACTIONS.some(
      (action) => (p.actions ?? []).some((a) => actionMatches(a, action)) && !(p.notActions ?? []).some((n) => actionMatches(n, action)),
    ),
  );
}

export interface ResolvedRole {
  readonly roleDefinitionId: string;
  readonly roleDefinitionGuid: string;
  readonly displayName: string;
}

/**
 * Turns a RoleRef into the role definition id to assign. Custom role names are looked up once per
 * (subscription, name): custom roles can be scoped to some subscriptions only, so the answer may
 * differ between subscriptions but not between events.
 */
export class RoleResolver {
  private readonly cache = new Map<string, Promise<{ guid: string; displayName: string }>>();

  constructor(private readonly lookup: RoleDefinitionLookup) {}

  async resolve(ref: RoleRef, subscriptionId: string, signal?: AbortSignal): Promise<ResolvedRole> {
    const { guid, displayName } =
      ref.kind === 'custom'
        ? await this.cached(`name|${subscriptionId}|${ref.roleName}`, signal, (s) => this.lookupCustom(ref.roleName, subscriptionId, s))
        : ref.kind === 'id' && !builtinRoleById(ref.roleDefinitionGuid)
          ? await this.cached(`id|${subscriptionId}|${ref.roleDefinitionGuid}`, signal, (s) => this.lookupById(ref.roleDefinitionGuid, ref.displayName, subscriptionId, s))
          : { guid: ref.roleDefinitionGuid.toLowerCase(), displayName: ref.displayName };
    // Checked for every kind, not just custom: a RoleRef may be built by code other than the loader.
    refusePrivileged(guid, displayName);
    return { roleDefinitionId: roleDefinitionIdFor(guid, subscriptionId), roleDefinitionGuid: guid, displayName };
  }

  /**
   * One lookup per key, shared by concurrent callers; each caller still stops at its own deadline.
   * Failures are not cached: the role may be created, or the API may recover, before the next event.
   */
  private cached(key: string, signal: AbortSignal | undefined, load: (signal?: AbortSignal) => Promise<{ guid: string; displayName: string }>) {
    const k = key.toLowerCase();
    let pending = this.cache.get(k);
    if (!pending) {
      pending = load(signal);
      pending.catch(() => this.cache.delete(k));
      this.cache.set(k, pending);
    }
    return signal ? raceAbort(pending, signal) : pending;
  }

  private async lookupCustom(roleName: string, subscriptionId: string, signal?: AbortSignal): Promise<{ guid: string; displayName: string }> {
    const found = await this.lookup.findRoleDefinitionByName(`/subscriptions/${subscriptionId}`, roleName, signal);
    if (!found) {
      throw new AutopilotError('RoleNotFound', `no role definition named '${roleName}' is visible in subscription ${subscriptionId}`);
    }
    refuseAccessControl(found, `custom role '${roleName}'`);
    const guid = isGuid(found.name) ? found.name.toLowerCase() : roleGuidFromDefinitionId(found.id);
    if (!guid) {
      throw new AutopilotError('RoleNotFound', `the role definition found for '${roleName}' has no usable id ('${found.id}')`);
    }
    return { guid, displayName: roleName };
  }

  /** A GUID that is not a built-in role is a custom role: its permissions are checked like a named one's. */
  private async lookupById(guid: string, displayName: string, subscriptionId: string, signal?: AbortSignal): Promise<{ guid: string; displayName: string }> {
    const found = await this.lookup.getRoleDefinition(`/subscriptions/${subscriptionId}`, guid, signal);
    if (!found) throw new AutopilotError('RoleNotFound', `no role definition with id ${guid} is visible in subscription ${subscriptionId}`);
    refuseAccessControl(found, `role ${guid}`);
    return { guid: guid.toLowerCase(), displayName };
  }
}

/** Fails closed: a definition whose permissions cannot be read is not granted. */
function refuseAccessControl(found: FoundRoleDefinition, what: string): void {
  if (!found.permissions) {
    throw new AutopilotError('PrivilegedRoleRefused', `${what}: its permissions could not be read, so it is not granted`);
  }
  if (grantsAccessControl(found.permissions)) {
    throw new AutopilotError('PrivilegedRoleRefused', privilegedReason(`${what}, which allows granting access,`));
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AutopilotError('DeadlineExceeded', 'role resolution did not finish within the time budget'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AutopilotError('DeadlineExceeded', 'role resolution did not finish within the time budget'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function refusePrivileged(guid: string, displayName: string): void {
  if (isPrivilegedRoleGuid(guid)) {
    throw new AutopilotError('PrivilegedRoleRefused', privilegedReason(`role '${displayName}' (${guid})`));
  }
}
