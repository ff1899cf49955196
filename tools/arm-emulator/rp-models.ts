/**
 * Spec checks for the catalogued workload types, whose full REST specs are too large to store
 * here (WebApps.json alone is about 1 MB; virtualMachineScaleSet.json 260 KB, managedClusters.json
 * 300 KB, each with large $ref closures; see specs/PROVENANCE.md). Instead each request/response
 * body is checked against the models of the per-RP typed SDKs, which are generated from those same
 * specs (pinned devDependencies; `sdk-models.ts` explains the check).
 */
import { tryParseArmId } from '../../src/arm/resource-id';
import { canonicalResourceType, type SupportedResourceType } from '../../src/arm/resource-types';
import { checkBody, loadMappers } from './sdk-models';

interface RpModels {
  pkg: string;
  /** Operation-id prefix in the spec (`WebApps_Get`). */
  operationGroup: string;
  /** Operation-id suffix (`WebApps_GetSlot`): a child type served by its parent's operation group. */
  operationSuffix?: string;
  /** Model of GET/PUT bodies and of every successful response. */
  resource: string;
  /** Model of the PATCH request body (undefined: the RP's PATCH takes tags only, not checked). */
  patch?: string;
  /** The PATCH is a JSON merge patch (partial by definition: required properties do not apply). */
  mergePatch?: boolean;
}

/** The typed SDK models of every catalogued type (src/arm/resource-types.ts): a type without them does not compile. */
const MODELS_BY_TYPE: Readonly<Record<SupportedResourceType, RpModels>> = {
  'Microsoft.Web/sites': { pkg: '@azure/arm-appservice', operationGroup: 'WebApps', resource: 'Site', patch: 'SitePatchResource' },
  // WebApps_GetSlot / _UpdateSlot / _CreateOrUpdateSlot take and return the site's own models (WebApps.json 2024-04-01).
  'Microsoft.Web/sites/slots': {
    pkg: '@azure/arm-appservice',
    operationGroup: 'WebApps',
    operationSuffix: 'Slot',
    resource: 'Site',
    patch: 'SitePatchResource',
  },
  'Microsoft.App/containerApps': {
    pkg: '@azure/arm-appcontainers',
    operationGroup: 'ContainerApps',
    resource: 'ContainerApp',
    patch: 'ContainerApp',
    mergePatch: true,
  },
  // Jobs_Update's body is JobPatchProperties, a JSON merge patch (Jobs.json 2024-03-01).
  'Microsoft.App/jobs': {
    pkg: '@azure/arm-appcontainers',
    operationGroup: 'Jobs',
    resource: 'Job',
    patch: 'JobPatchProperties',
    mergePatch: true,
  },
  'Microsoft.Compute/virtualMachines': {
    pkg: '@azure/arm-compute',
    operationGroup: 'VirtualMachines',
    resource: 'VirtualMachine',
    patch: 'VirtualMachineUpdate',
  },
  'Microsoft.Compute/virtualMachineScaleSets': {
    pkg: '@azure/arm-compute',
    operationGroup: 'VirtualMachineScaleSets',
    resource: 'VirtualMachineScaleSet',
    patch: 'VirtualMachineScaleSetUpdate',
  },
  'Microsoft.ContainerInstance/containerGroups': {
    pkg: '@azure/arm-containerinstance',
    operationGroup: 'ContainerGroups',
    resource: 'ContainerGroup',
  },
  'Microsoft.ContainerService/managedClusters': {
    pkg: '@azure/arm-containerservice',
    operationGroup: 'ManagedClusters',
    resource: 'ManagedCluster',
  },
};
const BY_TYPE = Object.values(MODELS_BY_TYPE);

/**
 * Loads the SDKs' mapper modules (about 0.6 s in all) when the emulator starts, not inside the first
 * request of a type, where the delay would distort LRO timing.
 */
export function preloadRpModels(): void {
  for (const rp of BY_TYPE) loadMappers(rp.pkg);
  for (const child of CHILDREN) loadMappers(child.pkg);
  for (const op of OTHER_OPERATIONS) loadMappers(op.pkg);
}

/**
 * Child resources the product reads and writes whose specs are not stored: Dapr components
 * (DaprComponents.json `$ref`s Microsoft.App's CommonDefinitions.json) and Cosmos DB SQL role
 * assignments (rbac.json `$ref`s the 1 MB cosmos-db.json). Checked against the typed SDKs' models:
 * `@azure/arm-appcontainers` 3.0.0 and `@azure/arm-cosmosdb` 16.4.0 (the last release with model
 * mappers; 17 is TypeSpec-generated without them), both generated from those specs.
 */
interface ChildModels {
  pkg: string;
  route: RegExp;
  operationGroup: string;
  resource: string;
  request: string;
  list: string;
  /** Operation ids by verb for one item and for the collection. */
  item: Record<string, string>;
  collection: string;
}
const CHILDREN: ChildModels[] = [
  {
    pkg: '@azure/arm-appcontainers',
    route:
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.App\/managedEnvironments\/[^/]+\/daprComponents(\/[^/]+)?$/i,
    operationGroup: 'DaprComponents',
    resource: 'DaprComponent',
    request: 'DaprComponent',
    list: 'DaprComponentsCollection',
    item: { GET: 'Get', PUT: 'CreateOrUpdate' },
    collection: 'List',
  },
  {
    pkg: '@azure/arm-cosmosdb',
    route:
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+\/sqlRoleAssignments(\/[^/]+)?$/i,
    operationGroup: 'SqlResources',
    resource: 'SqlRoleAssignmentGetResults',
    request: 'SqlRoleAssignmentCreateUpdateParameters',
    list: 'SqlRoleAssignmentListResult',
    item: { GET: 'GetSqlRoleAssignment', PUT: 'CreateUpdateSqlRoleAssignment', DELETE: 'DeleteSqlRoleAssignment' },
    collection: 'ListSqlRoleAssignments',
  },
];

function checkChild(method: string, path: string, requestBody: unknown, status: number, responseBody: unknown): ModelCheck | undefined {
  for (const child of CHILDREN) {
    const m = child.route.exec(path);
    if (!m) continue;
    const one = m[1] !== undefined;
    const verb = one ? child.item[method] : method === 'GET' ? child.collection : undefined;
    if (!verb) return undefined;
    const mappers = loadMappers(child.pkg);
    const problems: ModelCheck['problems'] = [];
    if (method === 'PUT' && requestBody !== undefined && status < 400) {
      for (const message of checkBody(mappers, child.request, requestBody, { complete: true })) problems.push({ side: 'request', message });
    }
    if (status < 300 && responseBody !== undefined) {
      for (const message of checkBody(mappers, one ? child.resource : child.list, responseBody, { complete: false }))
        problems.push({ side: 'response', message });
    }
    return { operationId: `${child.operationGroup}_${verb}`, problems };
  }
  return undefined;
}

/**
 * Other operations checked against their typed SDK's models rather than a stored spec: the Management
 * Groups spec (76 KB with common-types v3) and Event Grid's (several hundred KB) are not stored here.
 * `request`/`response` name the SDK model of each body (undefined: not checked).
 */
interface ModelledOperation {
  pkg: string;
  method: string;
  path: RegExp;
  operationId: string;
  request?: string;
  response?: string;
  /**
   * Check the response by a full round trip: needed where the model is polymorphic (Event Grid's
   * destinations and filters), whose subtypes only the serializer resolves. Fine where the service
   * returns no write-only fields.
   */
  responseRoundTrip?: boolean;
}

const SCALE_SET = String.raw`^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/[^/]+`;

const OTHER_OPERATIONS: ModelledOperation[] = [
  {
    pkg: '@azure/arm-managementgroups',
    method: 'GET',
    path: /^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+\/descendants$/i,
    operationId: 'ManagementGroups_GetDescendants',
    response: 'DescendantListResult',
  },
  // The scale-set follow-up (virtualMachineScaleSet.json, Microsoft.Compute 2024-07-01, through
  // @azure/arm-compute's models): VirtualMachineScaleSetVMs_List answers a
  // VirtualMachineScaleSetVMListResult; VirtualMachineScaleSets_UpdateInstances takes
  // VirtualMachineScaleSetVMInstanceRequiredIDs (`instanceIds` required) and answers 202 without a body.
  {
    pkg: '@azure/arm-compute',
    method: 'GET',
    path: new RegExp(`${SCALE_SET}\\/virtualMachines$`, 'i'),
    operationId: 'VirtualMachineScaleSetVMs_List',
    response: 'VirtualMachineScaleSetVMListResult',
  },
  {
    pkg: '@azure/arm-compute',
    method: 'POST',
    path: new RegExp(`${SCALE_SET}\\/manualupgrade$`, 'i'),
    operationId: 'VirtualMachineScaleSets_UpdateInstances',
    request: 'VirtualMachineScaleSetVMInstanceRequiredIDs',
  },
  // ResourceGroups_Get (resources.json, Microsoft.Resources 2021-04-01, through @azure/arm-resources): the
  // grant-target read of a resource-group scope and the sweep's resource-group cache.
  {
    pkg: '@azure/arm-resources',
    method: 'GET',
    path: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i,
    operationId: 'ResourceGroups_Get',
    response: 'ResourceGroup',
  },
  // Vaults_Get (keyvault.json, Microsoft.KeyVault 2023-07-01; examples/getVault.json stored under specs/),
  // through @azure/arm-keyvault's `Vault` model: the grant-target read that shows enableRbacAuthorization.
  {
    pkg: '@azure/arm-keyvault',
    method: 'GET',
    path: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+$/i,
    operationId: 'Vaults_Get',
    response: 'Vault',
  },
];

/** Registers operations of another SDK (Event Grid's, from its handler module). */
export function addModelledOperations(ops: ModelledOperation[]): void {
  OTHER_OPERATIONS.push(...ops);
}

function checkOtherOperation(
  method: string,
  path: string,
  requestBody: unknown,
  status: number,
  responseBody: unknown,
): ModelCheck | undefined {
  const op = OTHER_OPERATIONS.find((o) => o.method === method && o.path.test(path));
  if (!op) return undefined;
  const mappers = loadMappers(op.pkg);
  const problems: ModelCheck['problems'] = [];
  if (op.request && requestBody !== undefined && status < 400) {
    for (const message of checkBody(mappers, op.request, requestBody, { complete: true })) problems.push({ side: 'request', message });
  }
  if (op.response && status < 300 && responseBody !== undefined) {
    for (const message of checkBody(mappers, op.response, responseBody, { complete: op.responseRoundTrip === true }))
      problems.push({ side: 'response', message });
  }
  return { operationId: op.operationId, problems };
}

const OPERATION: Record<string, string> = { GET: 'Get', PUT: 'CreateOrUpdate', PATCH: 'Update', DELETE: 'Delete' };

export interface ModelCheck {
  operationId: string;
  problems: Array<{ side: 'request' | 'response'; message: string }>;
}

/** The catalogued type a resource path names (`.../providers/{ns}/{type}/{name}[/{child}/{name}]`), if any. */
function catalogueModels(path: string): RpModels | undefined {
  const id = tryParseArmId(path);
  const type = id?.kind === 'resource' && id.resourceGroup ? canonicalResourceType(id.type ?? '') : undefined;
  return type ? MODELS_BY_TYPE[type] : undefined;
}

/**
 * Checks one pair on a resource of a catalogued type (a slot's path included); undefined when the
 * pair is not such a call.
 */
export function checkWithRpModels(
  method: string,
  path: string,
  requestBody: unknown,
  status: number,
  responseBody: unknown,
): ModelCheck | undefined {
  const child = checkChild(method, path, requestBody, status, responseBody);
  if (child) return child;
  const rp = catalogueModels(path);
  const verb = OPERATION[method] && rp ? `${OPERATION[method]}${rp.operationSuffix ?? ''}` : undefined;
  if (!rp || !verb) return checkOtherOperation(method, path, requestBody, status, responseBody);
  const mappers = loadMappers(rp.pkg);
  const problems: ModelCheck['problems'] = [];
  const requestModel = method === 'PUT' ? rp.resource : method === 'PATCH' ? rp.patch : undefined;
  // A request the emulator refused (4xx) changed nothing; the refusal is what such a call tests.
  if (requestModel && requestBody !== undefined && status < 400) {
    const complete = !(method === 'PATCH' && rp.mergePatch);
    for (const message of checkBody(mappers, requestModel, requestBody, { complete })) problems.push({ side: 'request', message });
  }
  // Responses leave out write-only fields the spec marks required (ACI's secrets, azure-facts.md).
  if (status < 300 && responseBody !== undefined && method !== 'DELETE') {
    for (const message of checkBody(mappers, rp.resource, responseBody, { complete: false })) {
      // `managedBy` is part of ARM's resource envelope for every type (GenericResource in
      // Microsoft.Resources resources.json), even where the RP's own model leaves it out.
      if (message.startsWith('managedBy:')) continue;
      problems.push({ side: 'response', message });
    }
  }
  return { operationId: `${rp.operationGroup}_${verb}`, problems };
}
