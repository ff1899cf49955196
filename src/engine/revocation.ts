import { builtinRoleById, type RulesConfig } from '../config';
import { roleAssignmentOwner } from './grants/role-assignments';
import type { Plan } from './types';

/**
 * Revocation when the desired set shrinks (issue 22, item 3): which of the role assignments the product
 * made for a workload the rules no longer give, and why, in words an administrator recognises
 * (`Key Vault Secrets User @ kv-a (tag kv-id now names kv-b)`). Pure: the callers read ARM (the sweep
 * through Resource Graph, plan mode through the port) and decide what to do (report or remove).
 */

/** A role assignment ARM shows the product made (`createdBy` is the app), with the owner its description names. */
export interface OwnedRoleAssignment {
  /** The assignment's full ARM id. */
  id: string;
  principalId: string;
  scope: string;
  roleDefinitionGuid: string;
  /** Whom it was made for, from its description (rule, profile or `dapr:<component>`, workload). */
  owner: { rule: string; source: string; resourceId: string };
}

/** `excess`: the rules no longer give it; `orphan`: its principal no longer exists (ARM shows its workload gone). */
export type RevocationKind = 'excess' | 'orphan';

/** One owned grant to take back, with the reason shown in plans, reports and the ledger. */
export interface Revocation {
  kind: RevocationKind;
  assignment: OwnedRoleAssignment;
  /** The role's name (built-in) or its GUID. */
  role: string;
  reason: string;
}

/** A grant target the plan still names but refuses (consent withdrawn, out of bounds, gone): scope → why. */
export type RefusedTargets = ReadonlyMap<string, string>;

const key = (scope: string, guid: string) => `${scope.toLowerCase()}|${guid.toLowerCase()}`;

/** The built-in role's name, else its GUID (a custom role is named by the plan when it still grants it). */
export function roleName(guid: string): string {
  return builtinRoleById(guid)?.roleName ?? guid;
}

/** The assignment as an owned one, when its description names the workload it was made for. */
export function ownedAssignment(row: {
  id: string;
  principalId: string;
  scope: string;
  roleDefinitionGuid: string;
  description?: string;
}): OwnedRoleAssignment | undefined {
  const owner = roleAssignmentOwner({ scope: row.scope, roleDefinitionGuid: row.roleDefinitionGuid, description: row.description });
  if (!owner?.rule || !owner.source || !owner.resourceId) return undefined;
  return {
    id: row.id,
    principalId: row.principalId,
    scope: row.scope,
    roleDefinitionGuid: row.roleDefinitionGuid,
    owner: { rule: owner.rule, source: owner.source, resourceId: owner.resourceId },
  };
}

/** The tag a profile's role takes its scope from (`{tag:kv-id}`), when it does. */
function scopeTag(config: RulesConfig, profile: string, guid: string): string | undefined {
  const template = config.profiles
    .get(profile)
    ?.roles.find((r) => r.role.kind !== 'custom' && r.role.roleDefinitionGuid.toLowerCase() === guid.toLowerCase())?.scope;
  return template ? /\{tag:([^}]+)\}/i.exec(template)?.[1] : undefined;
}

/** The short name of a scope for messages: a resource's name, else the scope. */
const shortName = (scope: string) => (/\/providers\//i.test(scope) ? (scope.split('/').filter(Boolean).pop() ?? scope) : scope);

/**
 * Why an owned grant of a planned workload is no longer given, or undefined while the plan gives it.
 * `desiredGuids` are the plan's role assignments with their roles resolved (custom roles included).
 */
export function excessReason(
  plan: Plan,
  config: RulesConfig,
  assignment: OwnedRoleAssignment,
  desired: ReadonlyArray<{ scope: string; roleDefinitionGuid: string; profile: string }>,
  refused: RefusedTargets = new Map(),
): string | undefined {
  const { owner, scope, roleDefinitionGuid: guid } = assignment;
  const held = desired.find((d) => key(d.scope, d.roleDefinitionGuid) === key(scope, guid));
  if (held) {
    const why = refused.get(scope.toLowerCase());
    return why ? `${why}` : undefined;
  }
  if (owner.rule.toLowerCase() !== plan.rule.toLowerCase()) return `rule '${owner.rule}' no longer applies; rule '${plan.rule}' does`;
  if (!plan.profiles.includes(owner.source) && !owner.source.startsWith('dapr:'))
    return `profile '${owner.source}' no longer applies to it`;
  const moved = desired.find((d) => d.profile === owner.source && d.roleDefinitionGuid.toLowerCase() === guid.toLowerCase());
  const tag = scopeTag(config, owner.source, guid);
  if (moved && tag) return `tag ${tag} now names ${shortName(moved.scope)}`;
  if (moved && owner.source.startsWith('dapr:')) return `component '${owner.source.slice(5)}' now points at ${shortName(moved.scope)}`;
  if (moved) return `profile '${owner.source}' now grants it at ${moved.scope}`;
  if (owner.source.startsWith('dapr:')) return `component '${owner.source.slice(5)}' no longer needs it`;
  return `profile '${owner.source}' no longer gives it`;
}

/** `- Key Vault Secrets User @ kv-a (tag kv-id now names kv-b)`: one revocation as a plan line. */
export function revocationLine(r: { role: string; assignment: { scope: string }; reason: string }): string {
  return `- ${r.role} @ ${shortName(r.assignment.scope)} (${r.reason})`;
}

/**
 * The mass-revocation guard: whether a run may revoke `count` grants. Over the limit, nothing is revoked
 * until a person confirms (`--yes` in the CLI, AUTOPILOT_CONFIRM_MASS_REVOCATION for the timer).
 */
export function massRevocationGuard(
  count: number,
  limit: number,
  confirmed: boolean,
): { allowed: true } | { allowed: false; code: 'MassRevocationGuard'; detail: string } {
  if (count <= limit || confirmed) return { allowed: true };
  return {
    allowed: false,
    code: 'MassRevocationGuard',
    detail: `${count} grants would be revoked, more than the ${limit} a run may revoke without confirmation (lifecycle.maxRevocations); none was revoked. Check the rules, then confirm (sweep --yes, or AUTOPILOT_CONFIRM_MASS_REVOCATION=true for the timer)`,
  };
}
