/**
 * What the azd `predown` hook removes (scripts/infra/predown.ts): the pieces of a deployment that live
 * outside its resource group, which `azd down` (it deletes the resource group) leaves behind:
 *
 * - the app identity's role assignments at subscription scope in each governed subscription (the engine
 *   role and the role assigner, infra/app/engine-permissions.bicep);
 * - the two custom role definitions (infra/app/engine-role.bicep), created in the first governed
 *   subscription; Azure refuses to delete a role any assignment still uses (RoleDefinitionHasAssignments),
 *   so they go after the assignments;
 * - event subscriptions that deliver to this Function App from system topics outside the resource group
 *   (a reused topic, other governed subscriptions wired by hand or by a per-subscription deployment);
 * - system topics outside the resource group that this environment created (tag azd-env-name).
 *
 * Pure: it decides from an inventory read from ARM; nothing here calls Azure. Everything it keeps is
 * listed with the reason, so the confirmation shows both. The role assignments the product made for
 * workloads are its output and are never selected: only the app identity's own assignments at
 * subscription scope, of this deployment's custom roles.
 */
import { armIdKey, isGuid, isWithinScope } from '../../src/arm/resource-id';

export interface TeardownContext {
  environmentName: string;
  /** The resource group `azd down` deletes (everything inside it is left to azd). */
  resourceGroupId: string;
  /** Principal id of the app's user-assigned identity. */
  appPrincipalId: string;
  /** Resource id of the Function App; event subscriptions whose destination is one of its functions are ours. */
  functionAppId: string;
  governedSubscriptionIds: string[];
  /** GUIDs of the custom roles the deployment created (main.bicep outputs); may be empty for old deployments. */
  customRoleGuids: string[];
}

export interface RoleAssignmentItem {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}
export interface RoleDefinitionItem {
  /** The GUID. */
  name: string;
  roleName: string;
  type: string;
  assignableScopes: string[];
}
export interface EventSubscriptionItem {
  id: string;
  /** `properties.destination.properties.resourceId` of an AzureFunction destination, if any. */
  destinationResourceId?: string;
}
export interface SystemTopicItem {
  id: string;
  tags?: Record<string, string>;
}

export interface TeardownInventory {
  roleAssignments: RoleAssignmentItem[];
  /** Role definitions read for the GUIDs in context or in the app's assignments. */
  roleDefinitions: RoleDefinitionItem[];
  eventSubscriptions: EventSubscriptionItem[];
  systemTopics: SystemTopicItem[];
}

export type TeardownKind = 'eventSubscription' | 'roleAssignment' | 'roleDefinition' | 'systemTopic';

export interface TeardownStep {
  kind: TeardownKind;
  /** The ARM id DELETE is sent to. */
  id: string;
  what: string;
}

export interface TeardownPlan {
  /** In the order they must be deleted. */
  steps: TeardownStep[];
  /** Things found and deliberately left alone, with why. */
  kept: Array<{ id: string; why: string }>;
}

/** Role names the deployment gives its custom roles (main.bicep): `identity-autopilot <what> (<env>, <token>)`. */
export function isDeploymentRoleName(roleName: string, environmentName: string): boolean {
  return roleName.startsWith('identity-autopilot ') && roleName.includes(`(${environmentName}, `) && roleName.endsWith(')');
}

const roleGuidOf = (roleDefinitionId: string) => roleDefinitionId.split('/').pop()!.toLowerCase();

export function planTeardown(context: TeardownContext, inventory: TeardownInventory): TeardownPlan {
  const kept: TeardownPlan['kept'] = [];
  const insideGroup = (id: string) => isWithinScope(id, context.resourceGroupId);
  const governed = new Set(context.governedSubscriptionIds.map((s) => `/subscriptions/${s}`.toLowerCase()));

  // A custom role is ours when ARM says it is a custom role named as the deployment names them; a GUID
  // from the environment alone is not enough (a stale or edited .env must not delete someone else's role).
  const ourRoles = new Map<string, RoleDefinitionItem>();
  for (const def of inventory.roleDefinitions) {
    const guid = def.name.toLowerCase();
    if (def.type === 'CustomRole' && isDeploymentRoleName(def.roleName, context.environmentName)) ourRoles.set(guid, def);
    else if (context.customRoleGuids.some((g) => g.toLowerCase() === guid))
      kept.push({ id: guid, why: `role '${def.roleName}' (${def.type}) is not one this deployment created` });
  }

  const eventSubscriptions: TeardownStep[] = [];
  for (const sub of inventory.eventSubscriptions) {
    const dest = sub.destinationResourceId;
    if (!dest || !isWithinScope(dest, context.functionAppId)) continue;
    if (insideGroup(sub.id)) kept.push({ id: sub.id, why: 'inside the resource group: azd down deletes it' });
    else eventSubscriptions.push({ kind: 'eventSubscription', id: sub.id, what: `event subscription delivering to ${dest}` });
  }

  const assignments: TeardownStep[] = [];
  for (const a of inventory.roleAssignments) {
    if (a.principalId.toLowerCase() !== context.appPrincipalId.toLowerCase()) continue;
    if (insideGroup(a.scope)) continue; // storage and telemetry roles go with the group
    const role = ourRoles.get(roleGuidOf(a.roleDefinitionId));
    if (!governed.has(a.scope.toLowerCase())) kept.push({ id: a.id, why: `not at the scope of a governed subscription (${a.scope})` });
    else if (!role) kept.push({ id: a.id, why: `role ${roleGuidOf(a.roleDefinitionId)} is not one of this deployment's custom roles` });
    else
      assignments.push({
        kind: 'roleAssignment',
        id: a.id,
        what: `role assignment of '${role.roleName}' to the app identity at ${a.scope}`,
      });
  }

  // Deleted where they were created: the first governed subscription, one of their assignable scopes.
  const firstScope = `/subscriptions/${context.governedSubscriptionIds[0]}`;
  const definitions: TeardownStep[] = [...ourRoles.values()].map((def) => ({
    kind: 'roleDefinition',
    id: `${firstScope}/providers/Microsoft.Authorization/roleDefinitions/${def.name}`,
    what: `custom role '${def.roleName}'`,
  }));

  const topics: TeardownStep[] = [];
  for (const topic of inventory.systemTopics) {
    if (topic.tags?.['azd-env-name'] !== context.environmentName) continue;
    if (insideGroup(topic.id)) kept.push({ id: topic.id, why: 'inside the resource group: azd down deletes it' });
    else topics.push({ kind: 'systemTopic', id: topic.id, what: `system topic created by environment ${context.environmentName}` });
  }

  // Events stop first; a role definition can only go once no assignment uses it.
  const steps = dedupe([...eventSubscriptions, ...assignments, ...definitions, ...topics]);
  return { steps, kept };
}

function dedupe(steps: TeardownStep[]): TeardownStep[] {
  const seen = new Set<string>();
  return steps.filter((s) => {
    const k = armIdKey(s.id);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The azd environment values the hook needs, checked; throws with the variable's name when one is missing or malformed. */
export function teardownContextFromEnv(env: NodeJS.ProcessEnv): TeardownContext {
  const need = (name: string) => {
    const v = env[name]?.trim();
    if (!v) throw new TeardownInputError(`${name} is not set; run the hook through azd (azd down), which exports the environment's values`);
    return v;
  };
  const guid = (name: string, value: string) => {
    if (!isGuid(value)) throw new TeardownInputError(`${name} must be a GUID, got '${value}'`);
    return value.toLowerCase();
  };
  const subscriptionId = guid('AZURE_SUBSCRIPTION_ID', need('AZURE_SUBSCRIPTION_ID'));
  let governed: unknown;
  try {
    governed = JSON.parse(need('AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS'));
  } catch (e) {
    if (e instanceof TeardownInputError) throw e;
    throw new TeardownInputError('AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS must be a JSON array of subscription ids');
  }
  if (!Array.isArray(governed) || governed.length === 0 || !governed.every((g) => typeof g === 'string')) {
    throw new TeardownInputError('AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS must be a non-empty JSON array of subscription ids');
  }
  const functionAppId = need('AZURE_FUNCTION_APP_ID');
  if (!/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Web\/sites\/[^/]+$/i.test(functionAppId)) {
    throw new TeardownInputError(`AZURE_FUNCTION_APP_ID must be the resource id of a Function App, got '${functionAppId}'`);
  }
  const resourceGroup = need('AZURE_RESOURCE_GROUP');
  if (!/^[-\w.()]{1,90}$/.test(resourceGroup))
    throw new TeardownInputError(`AZURE_RESOURCE_GROUP '${resourceGroup}' is not a resource group name`);
  const roleGuids = ['AUTOPILOT_ENGINE_ROLE_ID', 'AUTOPILOT_ROLE_ASSIGNER_ROLE_ID'].flatMap((n) =>
    env[n]?.trim() ? [guid(n, env[n]!.trim())] : [],
  );
  return {
    environmentName: need('AZURE_ENV_NAME'),
    resourceGroupId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`,
    appPrincipalId: guid('AZURE_FUNCTION_APP_PRINCIPAL_ID', need('AZURE_FUNCTION_APP_PRINCIPAL_ID')),
    functionAppId,
    governedSubscriptionIds: (governed as string[]).map((g) => guid('AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS', g)),
    customRoleGuids: roleGuids,
  };
}

export class TeardownInputError extends Error {
  readonly code = 'TeardownInput';
}

/** Subscriptions to look for event subscriptions and system topics in: the governed ones and the deployment's own. */
export function subscriptionsToSearch(context: TeardownContext): string[] {
  const own = context.resourceGroupId.split('/')[2]!;
  return [...new Set([own, ...context.governedSubscriptionIds].map((s) => s.toLowerCase()))];
}
