import type { ArmResourceId } from '../../../src/arm/resource-id';
import { ArmError, notFound } from '../arm-error';
import { authorize, authorizeLinked } from '../authorization';
import { checkPreconditions, etagHeader, stampEtags } from '../etags';
import { applyIdentity } from '../identity';
import { type ResourceTypeModel, readView } from '../resource-types';
import { anotherOperationInProgress } from '../resource-types/model';
import { type Json, key, type LongRunningOperation, type StoredResource } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';
import { mergePatch } from './json-merge-patch';
import { operationInProgress, respondToDelete, respondToWrite } from './operations';

const ASSIGN_ACTION = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

function requireResourceGroup(ctx: HandlerContext, id: ArmResourceId): void {
  const rgId = `/subscriptions/${id.subscriptionId}/resourceGroups/${id.resourceGroup}`;
  if (!ctx.state.resourceGroups.has(key(rgId))) {
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${id.resourceGroup}' could not be found.`);
  }
}

function requireBody(req: EmulatorRequest): Json {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw new ArmError(
      400,
      'InvalidRequestContent',
      'The request content was invalid and could not be deserialized: the body must be a JSON object.',
    );
  }
  return req.body;
}

function stripReadOnly(body: Json): Json {
  const { id: _id, name: _name, type: _type, systemData: _sd, ...rest } = body;
  if (rest.properties && typeof rest.properties === 'object') {
    const { provisioningState: _ps, ...props } = rest.properties as Json;
    rest.properties = props;
  }
  return rest;
}

function identityWriter(ctx: HandlerContext, req: EmulatorRequest, model: ResourceTypeModel) {
  return (current: Json | undefined, requested: Json) =>
    applyIdentity(ctx.state, current, requested, model.identityTypes, (attached) => {
      for (const uaId of attached) authorizeLinked(ctx.state, req.principal, { action: ASSIGN_ACTION, scope: uaId });
    }).identity;
}

/**
 * A child (a deployment slot) exists only under its parent: 404 ParentResourceNotFound (Learn:
 * azure-resource-manager/troubleshooting/error-parent-resource quotes "Can not perform requested
 * operation on nested resource. Parent resource 'exampleserver' not found." for a nested resource whose
 * parent is missing). The page shows it for writes; that GET and DELETE answer the same is inferred, and
 * is the stricter choice (no verb can reach an orphan). It is checked after the caller is authorized, so
 * a caller without the permission learns nothing about the parent (403 first, as ARM authorizes first).
 */
function requireParent(ctx: HandlerContext, id: ArmResourceId, model: ResourceTypeModel): void {
  if (!model.parentType) return;
  const parentId = id.id.slice(0, id.id.length - `/${id.segments.at(-1)!.type}/${id.name}`.length);
  const parent = ctx.state.resource(parentId);
  if (!parent || String(parent.body.type).toLowerCase() !== model.parentType.toLowerCase()) {
    const parentName = id.segments.at(-2)!.name;
    throw new ArmError(
      404,
      'ParentResourceNotFound',
      `Can not perform requested operation on nested resource. Parent resource '${parentName}' not found.`,
    );
  }
}

/** How ARM's not-found message names the resource: `Microsoft.Web/sites/web1/slots` + `staging` for a child. */
function notFoundName(id: ArmResourceId, model: ResourceTypeModel): string {
  if (!model.parentType) return model.type;
  return [id.provider!, ...id.segments.slice(0, -1).flatMap((s) => [s.type, s.name]), id.segments.at(-1)!.type].join('/');
}

/** GET, PUT, PATCH and DELETE of a tracked resource of one of the modelled types. */
export function handleTrackedResource(
  ctx: HandlerContext,
  req: EmulatorRequest,
  id: ArmResourceId,
  model: ResourceTypeModel,
): EmulatorResponse {
  requireResourceGroup(ctx, id);
  const existing = ctx.state.resource(id.id);
  const action = (verb: string) => ({ action: `${model.type}/${verb}`, scope: id.id });
  const missing = () => notFound(notFoundName(id, model), id.name!, id.resourceGroup);

  switch (req.method) {
    case 'GET': {
      authorize(ctx.state, req.principal, action('read'));
      requireParent(ctx, id, model);
      operationInProgress(ctx, key(id.id)); // settles finished operations first
      if (!existing) throw missing();
      return { status: 200, body: readView(existing.body), headers: model.etags ? etagHeader(existing.body) : undefined };
    }
    case 'DELETE': {
      authorize(ctx.state, req.principal, action('delete'));
      requireParent(ctx, id, model);
      if (!existing) return { status: 204 };
      if (!model.deleteLro) return ctx.state.deleteResource(id.id) ? { status: 200 } : { status: 204 };
      const target = {
        resourceId: existing.id,
        subscriptionId: id.subscriptionId!,
        namespace: id.provider!,
        location: String(existing.body.location ?? 'westeurope'),
        apiVersion: req.apiVersion,
        caller: { objectId: req.principal.id, appId: req.principal.clientId },
      };
      return respondToDelete(ctx, model, target, (running) => busy(model, id, running));
    }
    case 'PUT':
      return putTracked(ctx, req, id, model, existing);
    case 'PATCH':
      return patchTracked(ctx, req, id, model, existing);
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported on '${model.type}'.`);
  }
}

/** PUT: the whole resource, validated by its model; an identity in the body is written as the RP would. */
function putTracked(
  ctx: HandlerContext,
  req: EmulatorRequest,
  id: ArmResourceId,
  model: ResourceTypeModel,
  existing: StoredResource | undefined,
): EmulatorResponse {
  authorize(ctx.state, req.principal, { action: `${model.type}/write`, scope: id.id });
  requireParent(ctx, id, model);
  const input = stripReadOnly(requireBody(req));
  if (typeof input.location !== 'string' || input.location.length === 0) {
    throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  }
  if (existing) model.checkReplace?.(existing.body, input);
  const problem = model.validatePut(input);
  if (problem) throw new ArmError(400, 'InvalidParameter', problem);
  if (model.etags) checkPreconditions(req, existing?.body);
  const runningOnPut = existing && operationInProgress(ctx, key(id.id));
  if (runningOnPut) throw busy(model, id, runningOnPut);
  const resourceId = existing?.id ?? id.id;
  const body: Json = {
    id: resourceId,
    name: model.nameOf?.(id) ?? id.name,
    type: model.type,
    ...input,
    properties: { ...(input.properties ?? {}) },
  };
  const writeIdentity = identityWriter(ctx, req, model);
  if (input.identity !== undefined) model.checkIdentity?.(body, input.identity);
  if (input.identity !== undefined) body.identity = writeIdentity(existing?.body.identity, input.identity);
  else if (existing?.body.identity?.principalId) ctx.state.directory.remove(String(existing.body.identity.principalId));
  if (model.etags) stampEtags(body);
  ctx.state.resources.set(key(resourceId), { id: resourceId, body });
  if (existing && model.putRestarts) recordRestart(ctx, resourceId, body);
  model.onModelWritten?.(ctx.state, existing?.body, body);
  return viewed(respondToWrite(ctx, model.putLro, model, outcome(id, req, body, existing === undefined, resourceId)));
}

/** PATCH: a merge patch (or tags alone, for the RPs whose PATCH takes only tags). */
function patchTracked(
  ctx: HandlerContext,
  req: EmulatorRequest,
  id: ArmResourceId,
  model: ResourceTypeModel,
  existing: StoredResource | undefined,
): EmulatorResponse {
  authorize(ctx.state, req.principal, { action: `${model.type}/write`, scope: id.id });
  requireParent(ctx, id, model);
  const patch = stripReadOnly(requireBody(req));
  if (!existing) throw notFound(notFoundName(id, model), id.name!, id.resourceGroup);
  if (model.etags) checkPreconditions(req, existing.body);
  const runningOnPatch = operationInProgress(ctx, key(id.id));
  if (runningOnPatch) throw busy(model, id, runningOnPatch);
  let body: Json;
  if (model.patch === 'tags-only') {
    // These RPs' PATCH bodies hold tags alone; anything else is ignored, as the real services do.
    body = patch.tags === undefined ? existing.body : { ...existing.body, tags: patch.tags };
  } else {
    const { identity, ...rest } = patch;
    body = mergePatch(existing.body, rest);
    if (identity !== undefined) model.checkIdentity?.(body, identity);
    if (identity !== undefined) body.identity = identityWriter(ctx, req, model)(existing.body.identity, identity);
  }
  if (model.etags && body !== existing.body) stampEtags(body);
  ctx.state.resources.set(key(existing.id), { id: existing.id, body });
  model.onModelWritten?.(ctx.state, existing.body, body);
  return viewed(respondToWrite(ctx, model.patchLro, model, outcome(id, req, body, false, existing.id)));
}

/** Write responses carry the body as a GET shows it. */
function viewed(response: EmulatorResponse): EmulatorResponse {
  return response.body && typeof response.body === 'object' ? { ...response, body: readView(response.body as Json) } : response;
}

/** A PUT redeploys the group: every container restarts and the group runs again (Learn: container-instances-update). */
function recordRestart(ctx: HandlerContext, resourceId: string, body: Json): void {
  ctx.state.restarts.set(key(resourceId), ctx.state.restartCount(resourceId) + 1);
  body.properties.instanceView = { ...(body.properties.instanceView ?? {}), state: 'Running' };
}

/** A write while an operation runs gets the RP's own conflict (AKS, ACI), or the generic one. */
function busy(model: ResourceTypeModel, id: ArmResourceId, running: LongRunningOperation): ArmError {
  return model.busyConflict?.(id.name!, running.provisioningState ?? 'Updating') ?? anotherOperationInProgress(id.name!);
}

function outcome(id: ArmResourceId, req: EmulatorRequest, body: Json, created: boolean, resourceId: string) {
  return {
    created,
    resourceId,
    namespace: id.provider!,
    location: String(body.location ?? 'westeurope'),
    subscriptionId: id.subscriptionId!,
    apiVersion: req.apiVersion,
    body,
  };
}
