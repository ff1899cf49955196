import { resourceTypeHandler } from '../azure/resource-types';
import { type GovernedScope, SUPPORTED_RESOURCE_TYPES } from '../config';

/**
 * Every Azure Resource Graph query the sweep sends, in one place: tests parse each with the real KQL
 * parser, and the emulator evaluates exactly these. Values from the rules file are quoted as KQL
 * string literals; nothing else is ever spliced in.
 */

/** A KQL string literal: single quotes, with backslashes and quotes escaped. */
export function kqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function kqlList(values: readonly string[]): string {
  return `(${values.map(kqlString).join(', ')})`;
}

/** `rg-*` → `resourceGroup startswith 'rg-'`; other globs → a case-insensitive regex; `*` → no filter. */
function resourceGroupFilter(globs: readonly string[]): string | undefined {
  if (globs.length === 0 || globs.some((g) => g === '*')) return undefined;
  const exact = globs.filter((g) => !/[*?]/.test(g));
  const prefixes = globs.filter((g) => /^[^*?]+\*$/.test(g)).map((g) => g.slice(0, -1));
  const patterns = globs.filter((g) => /[*?]/.test(g) && !/^[^*?]+\*$/.test(g));
  const terms: string[] = [];
  if (exact.length > 0) terms.push(`resourceGroup in~ ${kqlList(exact)}`);
  for (const p of prefixes) terms.push(`resourceGroup startswith ${kqlString(p)}`);
  for (const g of patterns) {
    const body = g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    terms.push(`resourceGroup matches regex ${kqlString(`(?i)^${body}$`)}`);
  }
  return terms.length === 1 ? terms[0] : `(${terms.join(' or ')})`;
}

/** Column prefix of the `properties` members the types' modules read (`properties_identityProfile`). */
export const PROPERTY_COLUMN_PREFIX = 'properties_';

/** `, properties_x = properties.x` for each member a governed type's module reads (AKS: the kubelet identity). */
function factColumns(types: readonly string[]): string {
  const members = [...new Set(types.flatMap((t) => resourceTypeHandler(t)?.graphProperties ?? []))].sort();
  return members.map((m) => `, ${PROPERTY_COLUMN_PREFIX}${m} = properties.${m}`).join('');
}

/**
 * The governed resources: the types and resource groups the rules' scope names, with exactly the
 * columns planning needs. Ordered by id so pages are stable (Resource Graph asks for this).
 */
export function governedResourcesQuery(scope: Pick<GovernedScope, 'resourceTypes' | 'resourceGroups'>): string {
  const lines = ['resources', `| where type in~ ${kqlList(scope.resourceTypes)}`];
  const rg = resourceGroupFilter(scope.resourceGroups);
  if (rg) lines.push(`| where ${rg}`);
  lines.push(
    // The resource group's `managedBy` (AKS node groups, Databricks managed groups) lives in
    // `resourcecontainers`; the planner skips such resources, and those with their own `managedBy`,
    // as platform-managed, so the report counts them rather than losing them. Keys in lower case:
    // join compares exactly.
    "| extend groupKey = tolower(strcat(subscriptionId, '/', resourceGroup)), subscriptionKey = tolower(subscriptionId)",
    "| join kind=leftouter (resourcecontainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups' | project groupKey = tolower(strcat(subscriptionId, '/', resourceGroup)), resourceGroupManagedBy = tostring(managedBy)) on groupKey",
    // The subscription's display name, for reports (a person knows "prod-payments", not a GUID): its
    // `resourcecontainers` row (type microsoft.resources/subscriptions) holds it as `name` (Learn: "Azure
    // Resource Graph table and resource type reference", ResourceContainers).
    "| join kind=leftouter (resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionKey = tolower(subscriptionId), subscriptionName = name) on subscriptionKey",
    `| project id, name, type, location, resourceGroup, subscriptionId, subscriptionName, tags, identity, managedBy, resourceGroupManagedBy${factColumns(scope.resourceTypes)}`,
    '| order by id asc',
  );
  return lines.join('\n');
}

/**
 * The role assignments held by the given principals: the `authorizationresources` table, whose
 * rows have ARM's shape (type `microsoft.authorization/roleassignments`, properties.principalId,
 * roleDefinitionId, scope).
 */
export function roleAssignmentsOfPrincipalsQuery(principalIds: readonly string[], withCreatedOn = false): string {
  // `createdOn`: when ARM created the assignment (secretless reports a grant's age from it).
  const createdOn = withCreatedOn ? ', createdOn = tostring(properties.createdOn)' : '';
  return [
    'authorizationresources',
    `| where type =~ 'microsoft.authorization/roleassignments' and tostring(properties.principalId) in~ ${kqlList(principalIds)}`,
    `| project principalId = tolower(tostring(properties.principalId)), scope = tostring(properties.scope), roleDefinitionId = tostring(properties.roleDefinitionId)${createdOn}`,
    '| order by principalId asc, scope asc, roleDefinitionId asc',
  ].join('\n');
}

/** The prefix of every description the product writes on a role assignment (roleAssignmentDescription). */
export const OWNED_DESCRIPTION_PREFIX = 'identity-autopilot: ';

/**
 * The role assignments ARM records as created by the app (`properties.createdBy` is its object or client
 * id; only ARM writes createdBy) with the product's description: the grants it made, whatever workload
 * they were for. The description alone proves nothing (anyone who may write assignments can copy it).
 */
export function ownedRoleAssignmentsQuery(appIds: readonly string[]): string {
  return [
    'authorizationresources',
    `| where type =~ 'microsoft.authorization/roleassignments' and tostring(properties.createdBy) in~ ${kqlList(appIds)}`,
    `| where tostring(properties.description) startswith ${kqlString(OWNED_DESCRIPTION_PREFIX)}`,
    '| project id, principalId = tolower(tostring(properties.principalId)), scope = tostring(properties.scope), roleDefinitionId = tostring(properties.roleDefinitionId), description = tostring(properties.description)',
    '| order by id asc',
  ].join('\n');
}

/** Every role assignment of the given principals, with who created it (orphans: ours are removed, others only listed). */
export function assignmentsOfPrincipalsQuery(principalIds: readonly string[]): string {
  return [
    'authorizationresources',
    `| where type =~ 'microsoft.authorization/roleassignments' and tostring(properties.principalId) in~ ${kqlList(principalIds)}`,
    '| project id, principalId = tolower(tostring(properties.principalId)), scope = tostring(properties.scope), roleDefinitionId = tostring(properties.roleDefinitionId), createdBy = tostring(properties.createdBy)',
    '| order by id asc',
  ].join('\n');
}

/** User-assigned identities whose principal is one of these: a principal found here still exists. */
export function identitiesOfPrincipalsQuery(principalIds: readonly string[]): string {
  return [
    'resources',
    `| where type =~ 'microsoft.managedidentity/userassignedidentities' and tostring(properties.principalId) in~ ${kqlList(principalIds)}`,
    '| project id, principalId = tolower(tostring(properties.principalId))',
    '| order by id asc',
  ].join('\n');
}

/** Secretless (issue 25): every Container Apps environment, whose Dapr components may use a target's keys. */
export function managedEnvironmentsQuery(): string {
  return ['resources', "| where type =~ 'microsoft.app/managedenvironments'", '| project id', '| order by id asc'].join('\n');
}

/** Secretless: every resource of the Dapr host type (container apps) with its identities and Dapr settings (names and ids only). */
export function containerAppsQuery(type: string): string {
  return [
    'resources',
    `| where type =~ ${kqlString(type)}`,
    '| project id, tags, identity, environmentId = tostring(properties.managedEnvironmentId), dapr = properties.configuration.dapr',
    '| order by id asc',
  ].join('\n');
}

/** Secretless: the targets of these types with their local-auth switches (`allowSharedKeyAccess`, `disableLocalAuth`). */
export function localAuthTargetsQuery(types: readonly string[]): string {
  return [
    'resources',
    `| where type in~ ${kqlList(types)}`,
    '| project id, name, type, allowSharedKeyAccess = properties.allowSharedKeyAccess, disableLocalAuth = properties.disableLocalAuth',
    '| order by id asc',
  ].join('\n');
}

/** A sample of each query, for tests that parse them all. */
export function sampleQueries(): Record<string, string> {
  return {
    governedResources: governedResourcesQuery({
      // Every catalogued type, as a sweep with the default scope asks (child types such as slots included).
      resourceTypes: [...SUPPORTED_RESOURCE_TYPES],
      resourceGroups: ['rg-apps', 'rg-ua-*', 'rg-?-team*', "o'brien"],
    }),
    governedResourcesAllGroups: governedResourcesQuery({ resourceTypes: ['Microsoft.Compute/virtualMachines'], resourceGroups: ['*'] }),
    governedClusters: governedResourcesQuery({ resourceTypes: ['Microsoft.ContainerService/managedClusters'], resourceGroups: ['*'] }),
    ownedRoleAssignments: ownedRoleAssignmentsQuery(['0b9d6f0e-5c0e-4b8e-9d55-2f3c1a0e1c11']),
    assignmentsOfPrincipals: assignmentsOfPrincipalsQuery(['0b9d6f0e-5c0e-4b8e-9d55-2f3c1a0e1c11']),
    identitiesOfPrincipals: identitiesOfPrincipalsQuery(['0b9d6f0e-5c0e-4b8e-9d55-2f3c1a0e1c11']),
    managedEnvironments: managedEnvironmentsQuery(),
    containerApps: containerAppsQuery(SUPPORTED_RESOURCE_TYPES[0]),
    localAuthTargets: localAuthTargetsQuery(['Microsoft.Storage/storageAccounts', 'Microsoft.ServiceBus/namespaces']),
    grantAges: roleAssignmentsOfPrincipalsQuery(['0b9d6f0e-5c0e-4b8e-9d55-2f3c1a0e1c11'], true),
    roleAssignmentsOfPrincipals: roleAssignmentsOfPrincipalsQuery([
      '0b9d6f0e-5c0e-4b8e-9d55-2f3c1a0e1c11',
      '7a3c2b9e-1f4d-4e7a-8b6c-5d4e3f2a1b0c',
    ]),
  };
}
