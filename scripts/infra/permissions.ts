/**
 * What the app's own identity needs in Azure, derived from the rules file, so the deployment grants
 * exactly the access the rules can use and nothing more:
 *
 * - a custom role with read/write on the governed resource types (to turn identities on) and the few
 *   reads the engine does around them;
 * - a second custom role holding only `Microsoft.Authorization/roleAssignments/write` and `/delete` (the
 *   "role assigner"), assigned with an ABAC condition that limits both to the roles the rules' profiles
 *   hand out, held by service principals only: the app can create, and take back (issue 22's clean-up
 *   and revocation), only the kind of grant it makes, never anyone's Owner or a person's access;
 * - "scoped" custom roles, each assigned only at the resource groups (or accounts) the rules' bounds
 *   allow (bounds.ts), for the writes and deletes that Azure RBAC conditions cannot narrow: federated
 *   credentials, user-assigned identity deletes, Cosmos DB SQL role assignments and Dapr component
 *   writes. They fall back to the whole governed subscription only where a rule's wildcards leave no
 *   narrower answer (`infra:params` says which, see `widened`).
 *
 * The Bicep templates receive the results through the generated parameters file (see params.ts); the
 * condition text is built here and only here, so tests and the ARM emulator can enforce the same grant.
 */

import { type CatalogueGrant, catalogueEntry } from '../../src/arm/dapr-components';
import { KEY_VAULT_SCOPE, KEY_VAULT_TYPE } from '../../src/arm/grant-targets';
import { isGuid } from '../../src/arm/resource-id';
import { RESOURCE_TYPE_HANDLERS } from '../../src/azure/resource-types';
import { builtinRoleById, builtinRoleRefusal } from '../../src/config/roles';
import type { Rule, RulesConfig } from '../../src/config/types';
import {
  addGroupScopes,
  constraintScopes,
  groupsFromPattern,
  narrowest,
  type ScopeSet,
  templateScopes,
  workloadResourceGroups,
} from './bounds';

/**
 * Cosmos DB data-plane grants (profiles' `cosmosDataRole`, Dapr's Cosmos components): the app writes
 * `sqlRoleAssignments` children of the accounts the rules can name (and lists them to skip what is held,
 * and deletes the ones it made when they are no longer wanted). These are Cosmos DB's own RBAC, outside
 * Azure RBAC's role-assignment condition: a role holding them may assign any Cosmos role to anyone, so
 * they are held only at the accounts (or their resource groups) the rules' bounds allow.
 */
export const COSMOS_SQL_ROLE_ASSIGNMENT_ACTIONS = [
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/delete',
] as const;
/**
 * Reading a Dapr app's components (wherever its environment is); writing them only where a rule lets the
 * product set azureClientId or migrate them off their keys (secretless.migrate), and only in the resource groups that rule's apps can be in: a component
 * write can point another team's component at another vault, so it is never held subscription-wide
 * when the rules name their groups.
 */
export const DAPR_COMPONENT_READ = 'Microsoft.App/managedEnvironments/daprComponents/read';
export const DAPR_COMPONENT_WRITE = 'Microsoft.App/managedEnvironments/daprComponents/write';

/**
 * Built-in "Role Based Access Control Administrator". Earlier deployments delegated through it; it also
 * carries roleAssignments/delete, `*\/read` and `Microsoft.Support/*`, which the app does not use.
 */
export const RBAC_ADMINISTRATOR_ROLE_GUID = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168';

/**
 * The role assigner's actions: creating role assignments and deleting them (clean-up after a deleted
 * resource, revocation, orphans: issue 22). Always assigned with buildRoleAssignmentCondition's
 * condition, whose delete clause mirrors the write clause (`@Resource[...]` attributes: the assignment's
 * role among the rules' roles, held by a service principal), so a compromised app can remove only the
 * kind of grant it makes: never an Owner, never a person's or a group's access.
 */
export const ROLE_ASSIGNER_ACTIONS: readonly string[] = [
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.Authorization/roleAssignments/delete',
];

/** Deleting a user-assigned identity the product created (issue 22), only where rules create them. */
export const IDENTITY_DELETE_ACTIONS: readonly string[] = ['Microsoft.ManagedIdentity/userAssignedIdentities/delete'];

/**
 * A custom role main.bicep assigns only at `scopes` (resource groups, single resources, or a whole
 * governed subscription where the rules leave no narrower bound). `key` names it stably: main.bicep
 * derives the role's GUID from it, so renaming one orphans the deployed role.
 */
export interface ScopedGrant {
  key: 'federated-credentials' | 'identity-deletes' | 'cosmos-sql-role-assignments' | 'dapr-component-writes';
  /** Display name part: `identity-autopilot <roleName> (<env>, <token>)`. */
  roleName: string;
  description: string;
  actions: string[];
  /** ARM scopes (subscription ids and resource group names lower case), none inside another. */
  scopes: string[];
  /** Set when some scope is a whole subscription: why the rules allow no narrower one. */
  widened?: string;
}

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
   * The same object is in `scopedGrants` (key `federated-credentials`) when not empty.
   */
  federatedCredentials: { actions: string[]; scopes: string[] };
  /** Roles held only where the rules' bounds allow; main.bicep creates and assigns one role per entry. */
  scopedGrants: ScopedGrant[];
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

  const customRoles = new Map([...(options.customRoleGuids ?? new Map<string, string>())].map(([n, g]) => [n.trim().toLowerCase(), g]));
  const guids = new Set<string>();
  const unresolved = new Set<string>();
  const profileNames = unique(enforced.flatMap((r) => [...r.profiles, ...r.tagSelectableProfiles]));
  for (const name of profileNames) {
    for (const grant of config.profiles.get(name)?.roles ?? []) {
      const role = grant.role;
      if (grant.cosmosSql) continue;
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
  for (const guid of guids) refusePrivileged(guid);
  const scoped = scopedGrants(config, enforced, subscriptions);
  const federatedCredentials = scoped.find((g) => g.key === 'federated-credentials');
  return {
    subscriptions,
    actions,
    assignableRoleGuids: [...guids].sort(),
    roleAssignerActions: guids.size > 0 ? [...ROLE_ASSIGNER_ACTIONS] : [],
    federatedCredentials: { actions: federatedCredentials?.actions ?? [], scopes: federatedCredentials?.scopes ?? [] },
    scopedGrants: scoped,
  };
}

/** What a scoped grant kind adds for one enforced rule, given the groups that rule's workloads can be in. */
interface ScopedGrantKind extends Omit<ScopedGrant, 'scopes' | 'widened'> {
  widened: string;
  collect(rule: Rule, groups: string[] | undefined, into: ScopeSet, context: { config: RulesConfig; subscriptions: string[] }): void;
}

/** Learn (managed identity built-in roles; Managed Identity Contributor holds them): read, write and delete. */
export const FEDERATED_CREDENTIAL_ACTIONS: readonly string[] = [
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
];

const COSMOS_ACCOUNT_TYPE = 'Microsoft.DocumentDB/databaseAccounts';

const SCOPED_GRANT_KINDS: readonly ScopedGrantKind[] = [
  {
    // Adding a federated credential lets whoever holds the issuer's tokens act as the identity, so that
    // right (and deleting the credentials it made) is kept to where the engine creates workload identities:
    // a rule's literal identity resource group, or the groups its clusters can be in when identities go
    // beside them (`{resourceGroup}`) and those are named without wildcards; otherwise the subscription.
    key: 'federated-credentials',
    roleName: 'federated credential writer',
    description:
      'identity-autopilot: adds (and removes) federated credentials of the AKS workload identities it creates. Generated from the rules file.',
    actions: [...FEDERATED_CREDENTIAL_ACTIONS],
    widened: 'a workloadIdentity rule creates identities in resource groups named by wildcards',
    collect(rule, groups, into, { subscriptions }) {
      if (rule.workloadIdentity)
        addGroupScopes(into, subscriptions, groupsFromPattern(rule.workloadIdentity.resourceGroupTemplate, groups));
    },
  },
  {
    // Deleting a user-assigned identity detaches it from every resource using it: only in the groups where
    // rules create identities (UserAssigned rules and AKS workload identities), read the same way.
    key: 'identity-deletes',
    roleName: 'identity remover',
    description:
      'identity-autopilot: deletes the user-assigned identities it created, only where the rules create them. Generated from the rules file.',
    actions: [...IDENTITY_DELETE_ACTIONS],
    widened: 'a rule creates identities in resource groups named by wildcards',
    collect(rule, groups, into, { subscriptions }) {
      if (rule.identity.kind === 'UserAssigned')
        addGroupScopes(into, subscriptions, groupsFromPattern(rule.identity.resourceGroupTemplate, groups));
      if (rule.workloadIdentity)
        addGroupScopes(into, subscriptions, groupsFromPattern(rule.workloadIdentity.resourceGroupTemplate, groups));
    },
  },
  {
    // Cosmos DB SQL role assignments: at each literal account a profile names (its `cosmosDataRole`
    // scope), in the groups `{resourceGroup}` can fill, and where a profile's `tagScope` or a Dapr rule's
    // `targets` let a tag or a component point.
    key: 'cosmos-sql-role-assignments',
    roleName: 'Cosmos DB SQL role assigner',
    description:
      'identity-autopilot: Cosmos DB SQL role assignments, only on the accounts the rules can name. Generated from the rules file.',
    actions: [...COSMOS_SQL_ROLE_ASSIGNMENT_ACTIONS],
    widened: 'a Cosmos DB target is bounded by no literal resource group (a wildcard, or tagScope/dapr.targets without resourceGroups)',
    collect(rule, groups, into, { config, subscriptions }) {
      for (const name of unique([...rule.profiles, ...rule.tagSelectableProfiles])) {
        for (const grant of config.profiles.get(name)?.roles ?? []) {
          if (!grant.cosmosSql) continue;
          if (grant.tagScope) constraintScopes(into, grant.tagScope, groups, subscriptions);
          else templateScopes(into, grant.scope, groups, subscriptions, COSMOS_ACCOUNT_TYPE);
        }
      }
      if (rule.dapr && daprRuleNeeds(rule).cosmos) constraintScopes(into, rule.dapr.targets, groups, subscriptions);
    },
  },
  {
    // Dapr component writes: in the resource groups the opted-in rules' apps can be in, for rules that let the
    // product set azureClientId or migrate components off their keys (secretless.migrate, issue 25 item 5).
    // The sweep migrates only components in the environments collected here (src/sweep/secretless-migration.ts
    // ruleConsent: the app's own resource group's, or the rule's dapr.environments).
    key: 'dapr-component-writes',
    roleName: 'Dapr component writer',
    description:
      "identity-autopilot: sets azureClientId on Dapr components and moves them off their keys (secretless.migrate), only in the governed apps' resource groups. Generated from the rules file.",
    actions: [DAPR_COMPONENT_WRITE],
    widened:
      'a dapr rule with azureClientId or secretless.migrate matches resource groups named by wildcards, or names an environment by bare name',
    collect(rule, groups, into, { subscriptions }) {
      if (!rule.dapr || !(rule.dapr.azureClientId || rule.secretless?.migrate)) return;
      addGroupScopes(into, subscriptions, groups);
      // An environment the rule names besides the app's own group (dapr.environments) is written there too:
      // an ARM id is its own scope; a bare name can be in any group of the app's subscription.
      for (const environment of rule.dapr.environments) {
        if (environment.startsWith('/')) into.add(environment);
        else addGroupScopes(into, subscriptions, undefined);
      }
    },
  },
];

/** Each scoped grant kind the enforced rules need, with its narrowest scopes; none without a scope. */
function scopedGrants(config: RulesConfig, enforced: RulesConfig['rules'], subscriptions: string[]): ScopedGrant[] {
  return SCOPED_GRANT_KINDS.flatMap(({ collect, widened, ...kind }) => {
    const into: ScopeSet = new Set();
    for (const rule of enforced) collect(rule, workloadResourceGroups(rule, config), into, { config, subscriptions });
    if (into.size === 0) return [];
    const scopes = narrowest(into);
    const wide = scopes.some((s) => !/\/resourceGroups\//i.test(s));
    return [{ ...kind, scopes, ...(wide ? { widened } : {}) }];
  });
}

/** One line per scoped grant held at a whole subscription, saying why, for `infra:params` to print. */
export function widenedGrantWarnings(permissions: AppPermissions): string[] {
  return permissions.scopedGrants
    .filter((g) => g.widened)
    .map(
      (g) =>
        `${g.actions.join(', ')} held across ${g.scopes.filter((s) => !/\/resourceGroups\//i.test(s)).join(', ')}: ${g.widened}; name the resource groups without wildcards to narrow it`,
    );
}

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
 * What enforced rules with a `dapr` section need: the component read (the write is a scoped grant),
 * `<type>/read` on every target type they honour (Resource Graph shows a caller only what it can read),
 * and the catalogue's RBAC roles.
 */
function daprNeeds(enforced: RulesConfig['rules']): { actions: string[]; roleGuids: string[] } {
  const actions = new Set<string>();
  const roleGuids = new Set<string>();
  for (const rule of enforced) {
    if (!rule.dapr) continue;
    actions.add(DAPR_COMPONENT_READ);
    const needs = daprRuleNeeds(rule);
    for (const a of needs.reads) actions.add(a);
    for (const g of needs.roleGuids) roleGuids.add(g);
  }
  return { actions: [...actions].sort(), roleGuids: [...roleGuids] };
}

/** One Dapr rule's honoured catalogue targets: their reads, RBAC roles, and whether any is a Cosmos DB data role. */
function daprRuleNeeds(rule: Rule): { reads: string[]; roleGuids: string[]; cosmos: boolean } {
  const reads = new Set<string>();
  const roleGuids = new Set<string>();
  let cosmos = false;
  const add = (grant: CatalogueGrant) => {
    if (grant.kind === 'cosmos-sql') cosmos = true;
    else for (const r of grant.roles) roleGuids.add(r.guid);
  };
  const dapr = rule.dapr!;
  const allowed = new Set(dapr.targets.resourceTypes.map((t) => t.toLowerCase()));
  for (const type of dapr.componentTypes) {
    for (const target of catalogueEntry(type)?.targets ?? []) {
      if (!allowed.has(target.resourceType.toLowerCase())) continue;
      reads.add(`${target.resourceType}/read`);
      add(target.grant);
      if (dapr.entityManagement && target.entityManagement?.grant) add(target.entityManagement.grant);
    }
  }
  return { reads: [...reads], roleGuids: [...roleGuids], cosmos };
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
