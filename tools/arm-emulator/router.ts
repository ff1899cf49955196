import { isGuid, parseArmId } from '../../src/arm/resource-id';
import { InvalidResourceIdError } from '../../src/errors';
import { ArmError, requireApiVersion } from './arm-error';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './handlers/context';
import { COSMOS_CHILD_ROUTE, handleCosmosChild } from './handlers/cosmos-sql-rbac';
import { DAPR_COMPONENT_ROUTE, handleDaprComponents } from './handlers/dapr-components';
import { EVENT_GRID_API_VERSIONS, handleEventGrid, isEventGridPath } from './handlers/event-grid';
import { FIC_PATH, handleFederatedCredential } from './handlers/federated-credentials';
import { handleGrantTarget, isGrantTargetType } from './handlers/grant-targets';
import { handleManagementGroups, isManagementGroupPath, MANAGEMENT_GROUP_API_VERSIONS } from './handlers/management-groups';
import { handleOperationMonitor, settleOperations } from './handlers/operations';
import { handleProvider } from './handlers/providers';
import { isResourceGraphPath, RESOURCE_GRAPH_API_VERSIONS } from './handlers/resource-graph';
import { listResources } from './handlers/resource-lists';
import { handleRoleAssignments } from './handlers/role-assignments';
import { handleRoleDefinitions } from './handlers/role-definitions';
import { handleScaleSetChild, SCALE_SET_CHILD } from './handlers/scale-set-instances';
import { handleResourceGroup, handleSubscription, listResourceGroups, listSubscriptions } from './handlers/scopes';
import { handleTrackedResource } from './handlers/tracked-resources';
import { handleUserAssignedIdentity, listUserAssignedIdentities, UA_TYPE } from './handlers/user-assigned-identities';
import { isKnownNamespace, resourceTypeModel } from './resource-types';

const AUTHORIZATION_API_VERSIONS = ['2020-04-01-preview', '2022-04-01', '2022-05-01-preview'];
// Role definitions also answer 2018-01-01-preview, the version the Azure CLI 2.45 reads them with
// (azure-cli-core `profiles/_shared.py`, MGMT_AUTHORIZATION 'role_definitions'); the version is in
// Azure/azure-rest-api-specs `specification/authorization/resource-manager/Microsoft.Authorization/preview/2018-01-01-preview/`.
const ROLE_DEFINITION_EXTRA_API_VERSIONS = ['2018-01-01-preview'];
// Subscriptions are served by their own api-versions: the Azure CLI (2.45, `latest` profile in
// azure-cli-core `profiles/_shared.py`) lists them with 2019-11-01, an api-version of
// Azure/azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/stable/2019-11-01/subscriptions.json`.
const SUBSCRIPTIONS_EXTRA_API_VERSIONS = ['2019-11-01'];
const RESOURCES_API_VERSIONS = [
  '2020-01-01',
  '2021-04-01',
  '2022-09-01',
  '2022-12-01',
  '2024-03-01',
  '2024-07-01',
  '2024-11-01',
  '2025-01-01',
  '2025-03-01',
  '2025-04-01',
];

function parse(path: string) {
  try {
    return parseArmId(path);
  } catch (e) {
    if (e instanceof InvalidResourceIdError) throw new ArmError(400, 'InvalidResourceId', e.message);
    throw e;
  }
}

/** Splits `{scope}/providers/Microsoft.Authorization/{kind}[/{name}]`. */
function authorizationRoute(path: string): { scope: string; kind: string; name?: string } | undefined {
  const m = /^(.*?)\/providers\/Microsoft\.Authorization\/(roleAssignments|roleDefinitions)(?:\/([^/]+))?$/i.exec(path);
  if (!m) return undefined;
  return { scope: m[1]!, kind: m[2]!.toLowerCase(), name: m[3] };
}

function requireSubscription(ctx: HandlerContext, subscriptionId: string): void {
  if (!isGuid(subscriptionId)) {
    throw new ArmError(400, 'InvalidSubscriptionId', `The provided subscription identifier '${subscriptionId}' is malformed or invalid.`);
  }
  if (!ctx.state.subscriptions.has(subscriptionId.toLowerCase())) {
    throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }
}

/**
 * Routes under one subscription that are not a provider resource: the subscription itself, operation
 * monitors, providers, the resource and resource-group lists, user-assigned identity lists and a resource
 * group. Undefined for anything else (the caller goes on to the resource routes).
 */
function subscriptionRoute(ctx: HandlerContext, req: EmulatorRequest, segments: string[]): EmulatorResponse | undefined {
  const { path } = req;
  const lower = segments.map((s) => s.toLowerCase());
  const subscriptionId = segments[1]!;
  if (segments.length === 2) {
    requireApiVersion(req, [...SUBSCRIPTIONS_EXTRA_API_VERSIONS, ...RESOURCES_API_VERSIONS], 'subscriptions');
    return handleSubscription(ctx, req, subscriptionId);
  }
  // /subscriptions/{s}/providers/{ns}/locations/{loc}/{monitor}/{operationId}
  if (lower[2] === 'providers' && lower[4] === 'locations' && segments.length === 8) {
    return handleOperationMonitor(ctx, req, segments[6]!, segments[7]!);
  }
  if (lower[2] === 'providers' && segments.length === 4) {
    requireApiVersion(req, RESOURCES_API_VERSIONS, 'providers');
    return handleProvider(ctx, req, subscriptionId, segments[3]!);
  }
  if (lower[2] === 'resources' && segments.length === 3) {
    requireApiVersion(req, RESOURCES_API_VERSIONS, 'resources');
    return listResources(ctx, req, subscriptionId);
  }
  if (lower[2] === 'resourcegroups' && lower[4] === 'resources' && segments.length === 5) {
    requireApiVersion(req, RESOURCES_API_VERSIONS, 'resources');
    return listResources(ctx, req, subscriptionId, segments[3]!);
  }
  if (lower[2] === 'resourcegroups' && segments.length === 3) {
    requireApiVersion(req, RESOURCES_API_VERSIONS, 'resourceGroups');
    return listResourceGroups(ctx, req, subscriptionId);
  }
  // List user-assigned identities at subscription or resource-group scope.
  const listUa =
    /^(\/subscriptions\/[^/]+(?:\/resourceGroups\/[^/]+)?)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities$/i.exec(path);
  if (listUa) {
    requireApiVersion(req, resourceTypeModel(UA_TYPE)!.apiVersions, UA_TYPE);
    return listUserAssignedIdentities(ctx, req, listUa[1]!);
  }
  if (lower[2] === 'resourcegroups' && segments.length === 4) {
    requireApiVersion(req, RESOURCES_API_VERSIONS, 'resourceGroups');
    parse(path);
    return handleResourceGroup(ctx, req, subscriptionId, segments[3]!);
  }
  return undefined;
}

export function route(ctx: HandlerContext, req: EmulatorRequest): EmulatorResponse {
  const { path } = req;
  // Operations whose time has come end before any request is served, so every API (Resource Graph,
  // lists, the resource itself) sees a finished delete as ARM does, not only the operation's monitor.
  settleOperations(ctx);
  if (isResourceGraphPath(path) && ctx.resourceGraph) {
    requireApiVersion(req, RESOURCE_GRAPH_API_VERSIONS, 'Microsoft.ResourceGraph/resources');
    return ctx.resourceGraph.handle(ctx, req);
  }
  const segments = path.split('/').slice(1);
  if (segments[0]?.toLowerCase() === 'subscriptions' && segments[1] !== undefined) requireSubscription(ctx, segments[1]);

  const authz = authorizationRoute(path);
  if (authz) {
    const versions =
      authz.kind === 'roledefinitions'
        ? [...ROLE_DEFINITION_EXTRA_API_VERSIONS, ...AUTHORIZATION_API_VERSIONS]
        : AUTHORIZATION_API_VERSIONS;
    requireApiVersion(req, versions, `Microsoft.Authorization/${authz.kind}`);
    if (authz.scope !== '') parse(authz.scope);
    return authz.kind === 'roleassignments'
      ? handleRoleAssignments(ctx, req, authz.scope, authz.name)
      : handleRoleDefinitions(ctx, req, authz.scope, authz.name);
  }

  if (isManagementGroupPath(path)) {
    requireApiVersion(req, MANAGEMENT_GROUP_API_VERSIONS, 'Microsoft.Management/managementGroups');
    return handleManagementGroups(ctx, req);
  }
  const lower = segments.map((s) => s.toLowerCase());
  if (lower[0] === 'subscriptions' && segments.length === 1) {
    requireApiVersion(req, [...SUBSCRIPTIONS_EXTRA_API_VERSIONS, ...RESOURCES_API_VERSIONS], 'subscriptions');
    return listSubscriptions(ctx, req);
  }
  if (lower[0] !== 'subscriptions' || segments.length < 2) {
    throw new ArmError(404, 'InvalidRequestUri', `The request URI '${path}' is not a valid Azure Resource Manager path.`);
  }
  const atSubscription = subscriptionRoute(ctx, req, segments);
  if (atSubscription) return atSubscription;

  const fic = FIC_PATH.exec(path);
  if (fic) {
    // Child of the identity: same RP, same api-versions (ManagedIdentity.json 2024-11-30 has both).
    requireApiVersion(req, resourceTypeModel(UA_TYPE)!.apiVersions, `${UA_TYPE}/federatedIdentityCredentials`);
    return handleFederatedCredential(ctx, req, fic[1]!, fic[2]);
  }
  if (isEventGridPath(path)) {
    requireApiVersion(req, EVENT_GRID_API_VERSIONS, 'Microsoft.EventGrid/systemTopics');
    return handleEventGrid(ctx, req);
  }

  const scaleSetChild = SCALE_SET_CHILD.exec(path);
  if (scaleSetChild) {
    requireApiVersion(
      req,
      resourceTypeModel('Microsoft.Compute/virtualMachineScaleSets')!.apiVersions,
      'Microsoft.Compute/virtualMachineScaleSets',
    );
    return handleScaleSetChild(ctx, req, scaleSetChild[1]!, scaleSetChild[2]!, scaleSetChild[3]);
  }

  const dapr = DAPR_COMPONENT_ROUTE.exec(path);
  if (dapr) return handleDaprComponents(ctx, req, dapr[1]!, dapr[2]);
  const cosmos = COSMOS_CHILD_ROUTE.exec(path);
  if (cosmos) return handleCosmosChild(ctx, req, cosmos[1]!, cosmos[2]!, cosmos[3]!, cosmos[4]);

  const id = parse(path);
  if (id.kind !== 'resource') throw new ArmError(404, 'InvalidRequestUri', `The request URI '${path}' is not supported by the emulator.`);
  if (isGrantTargetType(id.type) && id.resourceGroup) return handleGrantTarget(ctx, req, id);
  if (!isKnownNamespace(id.provider!)) {
    throw new ArmError(400, 'InvalidResourceNamespace', `The resource namespace '${id.provider}' is invalid.`);
  }
  const model = resourceTypeModel(id.type!);
  if (!model || !id.resourceGroup) {
    throw new ArmError(
      400,
      'InvalidResourceType',
      `The resource type '${id.type}' could not be found in the namespace '${id.provider}' for api version '${req.apiVersion}'.`,
    );
  }
  requireApiVersion(req, model.apiVersions, model.type);
  if (model.type === UA_TYPE) return handleUserAssignedIdentity(ctx, req, id);
  return handleTrackedResource(ctx, req, id, model);
}
