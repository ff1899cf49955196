import { type ArmResourceId, parseArmId, sameArmId } from '../arm/resource-id';
import { IDENTITY_CAPABILITIES } from '../arm/resource-types';
import {
  evaluateGovernance,
  resolveIdentityTemplate,
  resolveScopeTemplate,
  type Rule,
  type RulesConfig,
  selectProfiles,
  type SkipReason,
} from '../config';
import { isAutopilotError } from '../errors';
import { hasSystemAssigned, hasUserAssigned } from './identity-state';
import type { IdentityBlock, IdentityChange, Plan, PrincipalSource, ResourceState, RoleAssignmentPlan, UserAssignedIdentityPlan } from './types';

export type PlanResult =
  | { kind: 'plan'; plan: Plan }
  | { kind: 'skip'; reason: SkipReason; detail: string }
  /** The rules cannot be applied to this resource (bad tag value, unselectable profile...): permanent. */
  | { kind: 'invalid'; code: string; detail: string };

export interface PlanOptions {
  /** Profiles an HTTP caller asked for; only ones the matching rule allows are accepted. */
  requestedProfiles?: readonly string[];
}

interface IdentityDecision {
  change: IdentityChange;
  principal: PrincipalSource;
  userAssignedIdentity?: UserAssignedIdentityPlan;
  notes: string[];
}

function userAssignedMap(ids: string[]): Record<string, Record<string, never>> {
  return Object.fromEntries(ids.map((id) => [id, {}]));
}

function decideSystemAssigned(resource: ResourceState): IdentityDecision {
  const capabilities = IDENTITY_CAPABILITIES[resource.type];
  const current = resource.identity;
  if (hasSystemAssigned(current)) {
    return {
      change: { action: 'none', reason: 'system-assigned identity already enabled' },
      principal: { kind: 'existing', principalId: current.principalId!, identity: 'SystemAssigned' },
      notes: [],
    };
  }
  const existingUa = current.userAssigned.map((u) => u.id);
  if (!capabilities.systemAndUserAssigned && existingUa.length > 0) {
    const ua = current.userAssigned[0]!;
    return {
      change: { action: 'none', reason: `${resource.type} holds one identity kind at a time and already has a user-assigned identity` },
      principal: ua.principalId ? { kind: 'existing', principalId: ua.principalId, identity: 'UserAssigned' } : { kind: 'user-assigned', identityId: ua.id },
      notes: ['roles go to the existing user-assigned identity'],
    };
  }
  // Keep every user-assigned identity: "SystemAssigned" alone would remove them.
  const to: IdentityBlock = existingUa.length > 0
    ? { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: userAssignedMap(existingUa) }
    : { type: 'SystemAssigned' };
  return {
    change: { action: 'write', from: current.type, to, reason: 'enable the system-assigned identity' },
    principal: { kind: 'system-assigned-after-write' },
    notes: existingUa.length > 0 ? [`keeps ${existingUa.length} existing user-assigned identit${existingUa.length === 1 ? 'y' : 'ies'}`] : [],
  };
}

function decideUserAssigned(resource: ResourceState, id: ArmResourceId, rule: Rule): IdentityDecision {
  const current = resource.identity;
  const capabilities = IDENTITY_CAPABILITIES[resource.type];
  const { name, resourceGroup } = resolveIdentityTemplate(rule, { resourceId: id, tags: resource.tags });
  const identityId = `/subscriptions/${resource.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const attached = current.userAssigned.find((u) => sameArmId(u.id, identityId));
  if (attached) {
    return {
      change: { action: 'none', reason: `user-assigned identity '${name}' already attached` },
      principal: attached.principalId
        ? { kind: 'existing', principalId: attached.principalId, identity: 'UserAssigned' }
        : { kind: 'user-assigned', identityId: attached.id },
      notes: [],
    };
  }
  if (!capabilities.systemAndUserAssigned && (hasSystemAssigned(current) || hasUserAssigned(current))) {
    const principal: PrincipalSource = hasSystemAssigned(current)
      ? { kind: 'existing', principalId: current.principalId!, identity: 'SystemAssigned' }
      : current.userAssigned[0]!.principalId
        ? { kind: 'existing', principalId: current.userAssigned[0]!.principalId!, identity: 'UserAssigned' }
        : { kind: 'user-assigned', identityId: current.userAssigned[0]!.id };
    return {
      change: { action: 'none', reason: `${resource.type} holds one identity at a time and already has one; it is not replaced` },
      principal,
      notes: ['roles go to the identity the resource already has'],
    };
  }
  const uaIds = [...current.userAssigned.map((u) => u.id), identityId];
  const to: IdentityBlock = {
    type: hasSystemAssigned(current) ? 'SystemAssigned, UserAssigned' : 'UserAssigned',
    userAssignedIdentities: userAssignedMap(uaIds),
  };
  return {
    change: { action: 'write', from: current.type, to, reason: `attach user-assigned identity '${name}'` },
    principal: { kind: 'user-assigned', identityId },
    userAssignedIdentity: {
      action: 'ensure',
      id: identityId,
      subscriptionId: resource.subscriptionId,
      resourceGroup,
      name,
      location: resource.location,
      rule: rule.name,
      // Bound to this resource (ids compared case-insensitively), or to the rule when it declares the identity shared.
      owner: rule.identity.kind === 'UserAssigned' && rule.identity.shared ? `rule:${rule.name}` : resource.id,
    },
    notes: [],
  };
}

function roleAssignmentsFor(config: RulesConfig, id: ArmResourceId, resource: ResourceState, profileNames: string[]): RoleAssignmentPlan[] {
  const seen = new Set<string>();
  const plans: RoleAssignmentPlan[] = [];
  for (const profileName of profileNames) {
    const profile = config.profiles.get(profileName)!;
    for (const grant of profile.roles) {
      const scope = resolveScopeTemplate(grant.scope, { resourceId: id, tags: resource.tags }, config, grant.tagScope);
      const roleKey = grant.role.kind === 'custom' ? `custom:${grant.role.roleName.toLowerCase()}` : grant.role.roleDefinitionGuid.toLowerCase();
      const dedupe = `${scope.toLowerCase()}|${roleKey}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      plans.push({
        profile: profileName,
        role: grant.role,
        roleDefinitionGuid: grant.role.kind === 'custom' ? undefined : grant.role.roleDefinitionGuid.toLowerCase(),
        roleDisplayName: grant.role.kind === 'custom' ? grant.role.roleName : grant.role.displayName,
        scope,
        ...(grant.tagScope
          ? { target: { types: [...grant.tagScope.resourceTypes], ...(grant.tagScope.consentTag ? { consentTag: grant.tagScope.consentTag } : {}) } }
          : {}),
      });
    }
  }
  return plans;
}

/**
 * Pure planning: (resource state, rules) in, plan out. No I/O, so plan mode, dry runs and sweep
 * reports are exactly what apply would do.
 */
export function planRemediation(resource: ResourceState, config: RulesConfig, options: PlanOptions = {}): PlanResult {
  const id = parseArmId(resource.id);
  const governance = evaluateGovernance(config, id, resource.tags);
  if (!governance.governed) return { kind: 'skip', reason: governance.reason, detail: governance.detail };
  const { rule } = governance;
  const selection = selectProfiles(config, rule, resource.tags, options.requestedProfiles);
  if (!selection.ok) return { kind: 'invalid', code: selection.code, detail: selection.detail };
  try {
    const decision = rule.identity.kind === 'SystemAssigned' ? decideSystemAssigned(resource) : decideUserAssigned(resource, id, rule);
    const profiles = selection.profiles.map((p) => p.name);
    return {
      kind: 'plan',
      plan: {
        resourceId: resource.id,
        resourceType: resource.type,
        rule: rule.name,
        mode: rule.mode,
        identity: decision.change,
        userAssignedIdentity: decision.userAssignedIdentity,
        principal: decision.principal,
        roleAssignments: roleAssignmentsFor(config, id, resource, profiles),
        profiles,
        notes: [...decision.notes, ...(decision.change.action === 'write' && resource.identityWriteNote ? [resource.identityWriteNote] : [])],
        // The type's blockers only matter when the identity must be written: roles for an identity the
        // resource already has need no write to the resource. A blocker the rule consents to is lifted.
        blockers:
          decision.change.action === 'write' || decision.userAssignedIdentity
            ? resource.blockers.filter((b) => !b.waivedBy || !rule.workload[b.waivedBy])
            : [],
      },
    };
  } catch (e) {
    if (isAutopilotError(e)) return { kind: 'invalid', code: e.code, detail: e.message };
    throw e;
  }
}

/** The principal the roles are for, when it exists before any write (undefined: the write creates it). */
export function knownPrincipal(plan: Plan): string | undefined {
  const p = plan.principal;
  return p.kind === 'existing' || p.kind === 'user-assigned' ? p.principalId : undefined;
}

/** True when applying the plan would change nothing that planning alone can see. */
export function planHasIdentityWork(plan: Plan): boolean {
  return plan.identity.action === 'write' || plan.userAssignedIdentity !== undefined;
}
