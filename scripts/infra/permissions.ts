/**
 * What the app's own identity needs in Azure, derived from the rules file, so the deployment grants
 * exactly the access the rules can use and nothing more:
 *
 * - a custom role with read/write on the governed resource types (to turn identities on) and the few
 *   reads the engine does around them;
 * - a second custom role holding only `Microsoft.Authorization/roleAssignments/write` (the "role
 *   assigner"), assigned with an ABAC condition that limits it to the roles the rules' profiles hand
 *   out, to service principals only. The app never deletes a role assignment, so it holds no delete
 *   right at all; the condition also limits deletes (same roles, service principals only), so it stays
 *   narrow if it is ever attached to a role that can delete, such as Role Based Access Control
 *   Administrator.
 *
 * The Bicep templates receive the results through the generated parameters file (see params.ts); the
 * condition text is built here and only here, so tests and the ARM emulator can enforce the same grant.
 */

import { type CatalogueGrant, catalogueEntry } from '../../src/arm/dapr-components';
import { KEY_VAULT_SCOPE, KEY_VAULT_TYPE } from '../../src/arm/grant-targets';
import { isGuid } from '../../src/arm/resource-id';
import { RESOURCE_TYPE_HANDLERS } from '../../src/azure/resource-types';
import { builtinRoleById, builtinRoleRefusal } from '../../src/config/roles';
import type { RulesConfig } from '../../src/config/types';

/**
 * Cosmos DB data-plane grants (profiles' `cosmosDataRole`, Dapr's Cosmos components): the app writes
 * `sqlRoleAssignments` children of the governed accounts (and lists them to skip what is held). These
 * are Cosmos DB's own RBAC, outside Azure RBAC's role-assignment condition.
 */
export const COSMOS_SQL_ROLE_ASSIGNMENT_ACTIONS = [
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write',
] as const;
/** Reading a Dapr app's components; writing them only where a rule lets the product set azureClientId. */
export const DAPR_COMPONENT_READ = 'Microsoft.App/managedEnvironments/daprComponents/read';
export const DAPR_COMPONENT_WRITE = 'Microsoft.App/managedEnvironments/daprComponents/write';

/**
 * Built-in "Role Based Access Control Administrator". Earlier deployments delegated through it; it also
 * carries roleAssignments/delete, `*\/read` and `Microsoft.Support/*`, which the app does not use.
 */
export const RBAC_ADMINISTRATOR_ROLE_GUID = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168';

/**
 * The role assigner's actions: creating role assignments, nothing else. No `roleAssignments/delete`:
 * no code path of the app deletes one (grants are only ever added; revoking is left to administrators),
 * so a compromised app cannot remove anyone's access either.
 */
export const ROLE_ASSIGNER_ACTIONS: readonly string[] = ['Microsoft.Authorization/roleAssignments/write'];

/** Azure's limit on the size of a role assignment condition. */
export const MAX_CONDITION_BYTES = 8192;

export interface AppPermissions {
  /** The governed subscription ids: where the engine's roles are assigned (lower case). */
  subscriptions: string[];
  /** The custom role's `actions`, in a stable order. */
  actions: string[];
  /** Role definition GUIDs the engine may assign (lower case, sorted, never privileged). */
  assignableRoleGuids: string[];
  /** The role assigner's actions; empty when no profile grants a role (then nothing is delegated). */
  roleAssignerActions: string[];
  /**
   * AKS workload identity: the federated credential actions, granted (by a role of their own) only at
   * `scopes`, where the rules create workload identities. Empty when no enforce rule has workloadIdentity.
   */
  federatedCredentials: { actions: string[]; scopes: string[] };
}

export interface DeriveOptions {
  /** Custom role name (case-insensitive) -> role definition GUID; they cannot be resolved offline. */
  customRoleGuids?: ReadonlyMap<string, string>;
}

/** Raised when the rules cannot be turned into a grant; the message says what to do. */
export class AppPermissionsError extends Error {
  constructor(
    readonly code:
      | 'CustomRoleUnresolved'
      | 'CustomRoleMismatch'
      | 'InvalidRoleGuid'
      | 'PrivilegedRole'
      | 'ConditionTooLarge'
      | 'NoRoles'
      | 'ManagementGroupsNeedArm'
      | 'NoGovernedSubscriptions',
    message: string,
  ) {
    super(message);
    this.name = 'AppPermissionsError';
  }
}

/** Actions the engine needs whatever the rules say (besides the per-type read/write). */
const ALWAYS = {
  identityRead: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
  identityWrite: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
  // Also needed for SystemAssigned: keeping a resource's existing user-assigned identities means
  // sending them back in the PATCH, which ARM checks as an assign on each of them.
  identityAssign: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
  resourceGroupRead: 'Microsoft.Resources/subscriptions/resourceGroups/read',
  roleAssignmentRead: 'Microsoft.Authorization/roleAssignments/read',
  roleDefinitionRead: 'Microsoft.Authorization/roleDefinitions/read',
  resourceGraphRead: 'Microsoft.ResourceGraph/resources/read',
} as const;

/**
 * The grants the rules file calls for. Only rules in `enforce` mode contribute roles and the
 * user-assigned identity write: a `report` rule never changes anything, so switching a rule to
 * `enforce` means re-running `npm run infra:params` and `azd provision`.
 */
export function deriveAppPermissions(config: RulesConfig, options: DeriveOptions = {}): AppPermissions {
  const subscriptions = unique(config.scope.subscriptions.map((s) => s.toLowerCase()));
  const enforced = config.rules.filter((r) => r.mode === 'enforce');

  const actions: string[] = [];
  for (const type of config.scope.resourceTypes) actions.push(`${type}/read`, `${type}/write`);
  // A type's follow-up after the identity write (a scale set's manual upgrade) needs its own actions,
  // only when an enforce rule for that type opts in to it.
  for (const type of config.scope.resourceTypes) {
    const extra = RESOURCE_TYPE_HANDLERS[type].followUpPermissions;
    if (extra && enforced.some((r) => r.match.types.includes(type) && r.workload[extra.optIn] === true)) actions.push(...extra.actions);
    else if (extra?.checkActions) actions.push(...extra.checkActions);
  }
  actions.push(ALWAYS.identityRead);
  // Workload identities are user-assigned identities the engine creates, one per service account.
  if (enforced.some((r) => r.identity.kind === 'UserAssigned' || r.workloadIdentity)) actions.push(ALWAYS.identityWrite);
  actions.push(
    ALWAYS.identityAssign,
    ALWAYS.resourceGroupRead,
    ALWAYS.roleAssignmentRead,
    ALWAYS.roleDefinitionRead,
    ALWAYS.resourceGraphRead,
  );

  // Tag-chosen grant targets are read before any grant (src/engine/grant-targets.ts): one read per declared type.
  actions.push(...grantTargetReads(config, enforced));
  const dapr = daprNeeds(enforced);
  actions.push(...dapr.actions);
  let cosmosData = dapr.cosmos;

  const customRoles = new Map([...(options.customRoleGuids ?? new Map<string, string>())].map(([n, g]) => [n.trim().toLowerCase(), g]));
  const guids = new Set<string>();
  const unresolved = new Set<string>();
  const profileNames = unique(enforced.flatMap((r) => [...r.profiles, ...r.tagSelectableProfiles]));
  for (const name of profileNames) {
    for (const grant of config.profiles.get(name)?.roles ?? []) {
      const role = grant.role;
      if (grant.cosmosSql) {
        cosmosData = true;
        continue;
      }
      if (role.kind !== 'custom') {
        guids.add(role.roleDefinitionGuid.toLowerCase());
        continue;
      }
      const guid = customRoles.get(role.roleName.toLowerCase());
      if (guid === undefined) unresolved.add(role.roleName);
      else guids.add(checkedGuid(guid, `custom role '${role.roleName}'`));
    }
  }
  if (unresolved.size > 0) {
    const names = [...unresolved];
    throw new AppPermissionsError(
      'CustomRoleUnresolved',
      `the rules use custom role(s) ${names.map((n) => `'${n}'`).join(', ')}, whose ids cannot be looked up offline. ` +
        `Pass each one's role definition GUID, e.g. ${names.map((n) => `--custom-role "${n}=<guid>"`).join(' ')} ` +
        `(find it with: az role definition list --custom-role-only true --name "<name>" --query "[].name" -o tsv)`,
    );
  }
  for (const guid of dapr.roleGuids) guids.add(guid);
  if (cosmosData) actions.push(...COSMOS_SQL_ROLE_ASSIGNMENT_ACTIONS);
  for (const guid of guids) refusePrivileged(guid);
  return {
    subscriptions,
    actions,
    assignableRoleGuids: [...guids].sort(),
    roleAssignerActions: guids.size > 0 ? [...ROLE_ASSIGNER_ACTIONS] : [],
    federatedCredentials: federatedCredentialGrant(enforced, subscriptions),
  };
}

/**
 * Adding a federated credential lets whoever holds the issuer's tokens act as the identity, so that
 * right is kept to where the engine creates workload identities: a rule's literal identity resource
 * group, or the governed resource groups themselves when identities go beside their clusters
 * (`{resourceGroup}`) and those are named without wildcards; otherwise the governed subscription.
 */
function federatedCredentialGrant(enforced: RulesConfig['rules'], subscriptions: string[]): AppPermissions['federatedCredentials'] {
  const rules = enforced.filter((r) => r.workloadIdentity);
  if (rules.length === 0) return { actions: [], scopes: [] };
  const scopes = new Set<string>();
  for (const rule of rules) {
    const template = rule.workloadIdentity!.resourceGroupTemplate;
    const groups = !template.includes('{')
      ? [template]
      : template === '{resourceGroup}' && rule.match.resourceGroups.every((g) => !/[*?]/.test(g))
        ? [...rule.match.resourceGroups]
        : undefined;
    for (const subscription of subscriptions) {
      if (!groups) scopes.add(`/subscriptions/${subscription}`);
      else for (const g of groups) scopes.add(`/subscriptions/${subscription}/resourceGroups/${g.toLowerCase()}`);
    }
  }
  // A subscription scope covers its groups.
  const all = [...scopes];
  const kept = all.filter((s) => !all.some((o) => o !== s && s.startsWith(`${o}/`)));
  return { actions: [...FEDERATED_CREDENTIAL_ACTIONS], scopes: kept.sort() };
}

/** Learn (managed identity built-in roles; Managed Identity Contributor holds them): read and write, no delete. */
export const FEDERATED_CREDENTIAL_ACTIONS: readonly string[] = [
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
];

/**
 * The ABAC condition (conditionVersion "2.0") on the role assigner: role assignments may be written
 * only for `guids` and only to service principals, and deleted (by a role that can delete at all) only
 * when they are of `guids` and held by a service principal. The form follows Learn's "Constrain roles
 * and principal types" example (role-based-access-control/delegate-role-assignments-examples.md):
 * `@Request[...]` attributes for writes, `@Resource[...]` attributes for deletes.
 */
export function buildRoleAssignmentCondition(guids: string[]): string {
  const list = unique(guids.map((g) => checkedGuid(g, 'role definition id')));
  if (list.length === 0) {
    throw new AppPermissionsError('NoRoles', 'no role to allow: a condition needs at least one role definition GUID');
  }
  list.forEach(refusePrivileged);
  const set = `{${list.join(', ')}}`;
  const condition = [
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR",
    ` (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${set}`,
    "  AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))",
    'AND',
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR",
    ` (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${set}`,
    "  AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))",
  ].join('\n');
  const bytes = Buffer.byteLength(condition, 'utf8');
  if (bytes > MAX_CONDITION_BYTES) {
    throw new AppPermissionsError(
      'ConditionTooLarge',
      `the role assignment condition for ${list.length} roles is ${bytes} bytes; Azure allows ${MAX_CONDITION_BYTES}. Use fewer distinct roles in the profiles`,
    );
  }
  return condition;
}

/** `<type>/read` for every type a tag-derived scope of an enforced rule may name (resource groups are read anyway). */
function grantTargetReads(config: RulesConfig, enforced: RulesConfig['rules']): string[] {
  const reads = new Set<string>();
  for (const name of unique(enforced.flatMap((r) => [...r.profiles, ...r.tagSelectableProfiles]))) {
    for (const grant of config.profiles.get(name)?.roles ?? []) {
      for (const type of grant.tagScope?.resourceTypes ?? []) {
        if (type === 'resourceGroup') continue;
        reads.add(type === 'subscription' ? 'Microsoft.Resources/subscriptions/read' : `${type}/read`);
      }
      // A scope inside a Key Vault, however it is named, is read for its permission model before any grant
      // (src/engine/grant-targets.ts, VaultUsesAccessPolicies).
      if (!grant.cosmosSql && KEY_VAULT_SCOPE.test(grant.scope)) reads.add(`${KEY_VAULT_TYPE}/read`);
    }
  }
  return [...reads].sort();
}

/**
 * What enforced rules with a `dapr` section need: the component read (and write, for azureClientId),
 * `<type>/read` on every target type they honour (Resource Graph shows a caller only what it can read),
 * the catalogue's RBAC roles, and whether any honoured component gets a Cosmos DB data-plane role.
 */
function daprNeeds(enforced: RulesConfig['rules']): { actions: string[]; roleGuids: string[]; cosmos: boolean } {
  const actions = new Set<string>();
  const roleGuids = new Set<string>();
  let cosmos = false;
  const add = (grant: CatalogueGrant) => {
    if (grant.kind === 'cosmos-sql') cosmos = true;
    else for (const r of grant.roles) roleGuids.add(r.guid);
  };
  for (const rule of enforced) {
    if (!rule.dapr) continue;
    actions.add(DAPR_COMPONENT_READ);
    if (rule.dapr.azureClientId) actions.add(DAPR_COMPONENT_WRITE);
    const allowed = new Set(rule.dapr.targets.resourceTypes.map((t) => t.toLowerCase()));
    for (const type of rule.dapr.componentTypes) {
      for (const target of catalogueEntry(type)?.targets ?? []) {
        if (!allowed.has(target.resourceType.toLowerCase())) continue;
        actions.add(`${target.resourceType}/read`);
        add(target.grant);
        if (rule.dapr.entityManagement && target.entityManagement?.grant) add(target.entityManagement.grant);
      }
    }
  }
  return { actions: [...actions].sort(), roleGuids: [...roleGuids], cosmos };
}

function checkedGuid(value: string, what: string): string {
  const guid = value.trim().toLowerCase();
  if (!isGuid(guid)) throw new AppPermissionsError('InvalidRoleGuid', `${what}: '${value}' is not a GUID`);
  return guid;
}

/** The rules loader's check, from the built-in role table (custom roles are checked by custom-role-check.ts). */
function refusePrivileged(guid: string): void {
  const builtin = builtinRoleById(guid);
  const refusal = builtin && builtinRoleRefusal(builtin);
  if (refusal) throw new AppPermissionsError('PrivilegedRole', `${refusal} (${guid}); the engine is never allowed to hand it out`);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
