import { type ArmResourceId, parseArmId, sameArmId } from '../arm/resource-id';
import {
  evaluateGovernance,
  type Rule,
  type RulesConfig,
  resolveIdentityTemplate,
  resolveScopeTemplate,
  type SkipReason,
  selectProfiles,
} from '../config';
import { isAutopilotError } from '../errors';
import { hasSystemAssigned, hasUserAssigned } from './identity-state';
import type {
  CosmosSqlRoleAssignmentPlan,
  IdentityBlock,
  IdentityCapabilities,
  IdentityChange,
  Plan,
  PlanBlocker,
  PlannedFollowUp,
  PrincipalDescription,
  PrincipalRole,
  PrincipalSource,
  ResourceState,
  RoleAssignmentPlan,
  UserAssignedIdentityPlan,
} from './types';
import { planWorkloadIdentities } from './workload-identity';

export type PlanResult =
  | { kind: 'plan'; plan: Plan }
  | { kind: 'skip'; reason: SkipReason; detail: string }
  /** The rules cannot be applied to this resource (bad tag value, unselectable profile...): permanent. */
  | { kind: 'invalid'; code: string; detail: string };

export interface PlanOptions {
  /** Profiles an HTTP caller asked for; only ones the matching rule allows are accepted. */
  requestedProfiles?: readonly string[];
  /** The time exemptions are judged at (the run's clock); default: now. */
  now?: Date;
}

interface IdentityDecision {
  change: IdentityChange;
  principal: PrincipalSource;
  userAssignedIdentity?: UserAssignedIdentityPlan;
  notes: string[];
  /** Set when the roles go to a principal other than the identity block (AKS kubelet). */
  grantee?: PrincipalDescription;
  /** Set when the chosen principal does not exist and the product will not create it. */
  blockers?: PlanBlocker[];
}

/** Most RPs hold both kinds at once; a type's module says otherwise. */
const BOTH_KINDS: IdentityCapabilities = { systemAndUserAssigned: true };
const capabilitiesOf = (resource: ResourceState): IdentityCapabilities => resource.identityCapabilities ?? BOTH_KINDS;

/**
 * Which principal the rule's roles are for. The identity block, unless the type reports principals
 * the workload runs as besides it (AKS: pods run as the kubelet identity); then the rule's
 * `workload.aksPrincipal` chooses, the kubelet by default.
 */
function chosenRole(resource: ResourceState, rule: Rule): PrincipalRole {
  if (!resource.principals) return 'resource';
  return rule.workload.aksPrincipal;
}

/** Roles for a principal other than the identity block: nothing is written to the resource. */
function decideOtherPrincipal(resource: ResourceState, role: PrincipalRole): IdentityDecision {
  const found = resource.principals!.others.find((p) => p.role === role);
  if (!found?.objectId) {
    return {
      change: { action: 'none', reason: `the ${role} identity does not exist; the product does not create it` },
      principal: { kind: 'system-assigned-after-write' },
      grantee: { role },
      notes: [],
      // The type's own reasons (a service-principal cluster) say more than a generic one.
      blockers:
        resource.blockers.length > 0
          ? [...resource.blockers]
          : [
              {
                code: 'PrincipalMissing',
                detail: `the resource reports no ${role} identity to grant the roles to`,
                remedy: `give the resource a ${role} identity, or choose another principal in the rule`,
              },
            ],
    };
  }
  return {
    change: { action: 'none', reason: `roles go to the ${role} identity; the resource's own identity is not changed` },
    principal: { kind: 'existing', principalId: found.objectId, identity: 'UserAssigned' },
    grantee: { ...found },
    notes: [`roles go to the ${role} identity (objectId ${found.objectId}${found.clientId ? `, clientId ${found.clientId}` : ''})`],
  };
}

/** What is known of the identity-block principal the roles go to. */
function identityBlockGrantee(resource: ResourceState, decision: IdentityDecision): PrincipalDescription {
  const role = resource.principals?.identityBlockRole ?? 'resource';
  const p = decision.principal;
  if (p.kind === 'system-assigned-after-write') return { role };
  if (p.kind === 'existing' && p.identity === 'SystemAssigned') return { role, objectId: p.principalId };
  const uaId = p.kind === 'user-assigned' ? p.identityId : undefined;
  const ua = resource.identity.userAssigned.find((u) =>
    uaId ? sameArmId(u.id, uaId) : u.principalId === (p as { principalId?: string }).principalId,
  );
  return {
    role,
    objectId: ua?.principalId ?? (p as { principalId?: string }).principalId,
    clientId: ua?.clientId,
    identityId: ua?.id ?? uaId,
  };
}

function userAssignedMap(ids: string[]): Record<string, Record<string, never>> {
  return Object.fromEntries(ids.map((id) => [id, {}]));
}

function decideSystemAssigned(resource: ResourceState): IdentityDecision {
  const capabilities = capabilitiesOf(resource);
  const current = resource.identity;
  if (capabilities.noSystemAssigned) {
    const { detail, remedy } = capabilities.noSystemAssigned;
    return {
      change: { action: 'none', reason: 'the resource cannot hold a system-assigned identity' },
      principal: { kind: 'system-assigned-after-write' },
      notes: [],
      blockers: [{ code: 'SystemAssignedNotSupported', detail, remedy }],
    };
  }
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
      principal: ua.principalId
        ? { kind: 'existing', principalId: ua.principalId, identity: 'UserAssigned' }
        : { kind: 'user-assigned', identityId: ua.id },
      notes: ['roles go to the existing user-assigned identity'],
    };
  }
  // Keep every user-assigned identity: "SystemAssigned" alone would remove them.
  const to: IdentityBlock =
    existingUa.length > 0
      ? { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: userAssignedMap(existingUa) }
      : { type: 'SystemAssigned' };
  return {
    change: { action: 'write', from: current.type, to, reason: 'enable the system-assigned identity' },
    principal: { kind: 'system-assigned-after-write' },
    notes:
      existingUa.length > 0 ? [`keeps ${existingUa.length} existing user-assigned identit${existingUa.length === 1 ? 'y' : 'ies'}`] : [],
  };
}

function decideUserAssigned(resource: ResourceState, id: ArmResourceId, rule: Rule): IdentityDecision {
  const current = resource.identity;
  const capabilities = capabilitiesOf(resource);
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
  // One kind at a time: a system-assigned identity may be switched where the RP supports it (the AKS
  // control plane); another user-assigned identity is never replaced.
  const switchSystemAssigned = capabilities.switchToUserAssigned === true && hasSystemAssigned(current) && !hasUserAssigned(current);
  if (!capabilities.systemAndUserAssigned && !switchSystemAssigned && (hasSystemAssigned(current) || hasUserAssigned(current))) {
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
    type: hasSystemAssigned(current) && !switchSystemAssigned ? 'SystemAssigned, UserAssigned' : 'UserAssigned',
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
      // Cosmos DB data-plane roles are the other kind of grant (cosmosAssignmentsFor).
      if (grant.cosmosSql) continue;
      const scope = resolveScopeTemplate(grant.scope, { resourceId: id, tags: resource.tags }, config, grant.tagScope);
      const roleKey =
        grant.role.kind === 'custom' ? `custom:${grant.role.roleName.toLowerCase()}` : grant.role.roleDefinitionGuid.toLowerCase();
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
          ? {
              target: {
                types: [...grant.tagScope.resourceTypes],
                ...(grant.tagScope.consentTag ? { consentTag: grant.tagScope.consentTag } : {}),
              },
            }
          : {}),
      });
    }
  }
  return plans;
}

/** The profiles' Cosmos DB data-plane roles: one SQL role assignment on each named account. */
function cosmosAssignmentsFor(
  config: RulesConfig,
  id: ArmResourceId,
  resource: ResourceState,
  profileNames: string[],
): CosmosSqlRoleAssignmentPlan[] {
  const plans: CosmosSqlRoleAssignmentPlan[] = [];
  for (const profileName of profileNames) {
    for (const grant of config.profiles.get(profileName)!.roles) {
      if (!grant.cosmosSql || grant.role.kind === 'custom') continue;
      const accountId = resolveScopeTemplate(grant.scope, { resourceId: id, tags: resource.tags }, config, grant.tagScope);
      const guid = grant.role.roleDefinitionGuid.toLowerCase();
      if (plans.some((p) => sameArmId(p.accountId, accountId) && p.roleDefinitionGuid === guid)) continue;
      plans.push({
        kind: 'cosmos-sql',
        source: profileName,
        accountId,
        roleDefinitionGuid: guid,
        roleDisplayName: grant.role.displayName,
        scope: accountId,
        ...(grant.tagScope
          ? {
              target: {
                types: [...grant.tagScope.resourceTypes],
                ...(grant.tagScope.consentTag ? { consentTag: grant.tagScope.consentTag } : {}),
              },
            }
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
  const platform = platformManagement(resource);
  if (platform) return { kind: 'skip', reason: 'platform-managed', detail: platform };
  const governance = evaluateGovernance(config, id, resource.tags, options.now ?? new Date());
  if (!governance.governed) return { kind: 'skip', reason: governance.reason, detail: governance.detail };
  const { rule } = governance;
  const selection = selectProfiles(config, rule, resource.tags, options.requestedProfiles);
  if (!selection.ok) return { kind: 'invalid', code: selection.code, detail: selection.detail };
  try {
    if (rule.workloadIdentity)
      return {
        kind: 'plan',
        plan: workloadIdentityPlan(
          resource,
          config,
          id,
          rule,
          selection.profiles.map((p) => p.name),
        ),
      };
    const role = chosenRole(resource, rule);
    const decision =
      role !== 'resource' && role !== resource.principals?.identityBlockRole
        ? decideOtherPrincipal(resource, role)
        : rule.identity.kind === 'SystemAssigned'
          ? decideSystemAssigned(resource)
          : decideUserAssigned(resource, id, rule);
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
        dataPlaneRoleAssignments: cosmosAssignmentsFor(config, id, resource, profiles),
        profiles,
        notes: [
          ...decision.notes,
          ...(decision.change.action === 'write' && resource.identityWriteNote ? [resource.identityWriteNote] : []),
        ],
        // The type's blockers only matter when the identity must be written: roles for an identity the
        // resource already has need no write to the resource. A blocker the rule consents to is lifted.
        // A principal the type reports missing (an AKS kubelet) blocks whatever the identity needs.
        blockers:
          decision.blockers ??
          (decision.change.action === 'write' || decision.userAssignedIdentity
            ? resource.blockers.filter((b) => !b.waivedBy || !rule.workload[b.waivedBy])
            : []),
        ...consentedSideEffects(
          resource,
          rule,
          decision.blockers === undefined && (decision.change.action === 'write' || decision.userAssignedIdentity !== undefined),
        ),
        grantee: decision.grantee ?? identityBlockGrantee(resource, decision),
        followUps: followUpsFor(resource, rule, decision.change),
      },
    };
  } catch (e) {
    if (isAutopilotError(e)) return { kind: 'invalid', code: e.code, detail: e.message };
    throw e;
  }
}

/**
 * A rule with `workloadIdentity` (AKS): the profiles go to one identity per named service account, with
 * a federated credential for the cluster's OIDC issuer; the cluster's own identity block is not changed.
 */
function workloadIdentityPlan(resource: ResourceState, config: RulesConfig, id: ArmResourceId, rule: Rule, profiles: string[]): Plan {
  const decision = planWorkloadIdentities(resource, rule, rule.workloadIdentity!);
  return {
    resourceId: resource.id,
    resourceType: resource.type,
    rule: rule.name,
    mode: rule.mode,
    identity: {
      action: 'none',
      reason: 'workload identity: the service accounts get identities of their own; the cluster identity is not changed',
    },
    principal: { kind: 'workload-identities' },
    roleAssignments: roleAssignmentsFor(config, id, resource, profiles),
    profiles,
    notes: decision.notes,
    blockers: decision.blockers,
    workloadIdentities: decision.workloadIdentities,
    ...(decision.clusterChange ? { clusterChange: decision.clusterChange } : {}),
  };
}

/**
 * Why the resource belongs to another service, if it does. Learn (aks/node-resource-group-lockdown):
 * changes in an AKS node resource group "can affect cluster operations"; ARM marks such groups, and
 * resources another service manages, with `managedBy`.
 */
function platformManagement(resource: ResourceState): string | undefined {
  if (resource.managedBy) return `the resource is managed by '${resource.managedBy}' (managedBy is set); changes belong to that service`;
  if (resource.resourceGroupManagedBy) {
    return `resource group '${resource.resourceGroup}' is managed by '${resource.resourceGroupManagedBy}' (managedBy is set); changes belong to that service`;
  }
  return undefined;
}

/** The type's blockers the rule consents to (they will happen), only when the identity is written and only when there are some. */
function consentedSideEffects(resource: ResourceState, rule: Rule, writes: boolean): { consented?: PlanBlocker[] } {
  const consented = writes ? resource.blockers.filter((b) => b.waivedBy && rule.workload[b.waivedBy]) : [];
  return consented.length > 0 ? { consented } : {};
}

/**
 * The type's follow-up after an identity write, run only when the rule's workload option allows it;
 * otherwise the outcome will be `pending` with the type's remedy. Without a write, only an opted-in
 * step is kept (the port checks whether it is still needed): a run that wrote the identity and then
 * failed the step, or ran out of time, left it undone, and its redelivery finds nothing to write.
 */
function followUpsFor(resource: ResourceState, rule: Rule, change: IdentityChange): PlannedFollowUp[] {
  if (!resource.followUp) return [];
  const run = rule.workload[resource.followUp.optIn] === true;
  // Nothing written now: the step may still be owed from an earlier write (instances behind the model),
  // which only the resource can tell: apply checks it (read-only) and reports `pending` while it is.
  return [{ ...resource.followUp, run, ...(change.action !== 'write' && !run ? { onlyIfNeeded: true } : {}) }];
}

/** The principal the roles are for, when it exists before any write (undefined: the write creates it). */
export function knownPrincipal(plan: Plan): string | undefined {
  const p = plan.principal;
  return p.kind === 'existing' || p.kind === 'user-assigned' ? p.principalId : undefined;
}

/** True when applying the plan would change nothing that planning alone can see. */
export function planHasIdentityWork(plan: Plan): boolean {
  return plan.identity.action === 'write' || plan.userAssignedIdentity !== undefined || plan.clusterChange !== undefined;
}
