import { randomUUID } from 'node:crypto';
import { ArmError } from '../arm-error';
import { type LroStyle, type ResourceTypeModel, tracksProvisioningState } from '../resource-types';
import { type Json, key, type LongRunningOperation } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/** RPs send Retry-After in whole seconds; 0 means "send none", leaving the client its own interval. */
function retryAfterHeader(ctx: HandlerContext): Record<string, string> {
  return ctx.lro.retryAfterSeconds > 0 ? { 'Retry-After': String(ctx.lro.retryAfterSeconds) } : {};
}

/** Completes operations whose time has come and marks their resources Succeeded. */
export function settleOperations(ctx: HandlerContext, now = Date.now()): void {
  for (const op of ctx.state.operations.values()) {
    if (op.status !== 'InProgress' || now < op.completeAt) continue;
    op.status = 'Succeeded';
    op.onSucceeded?.();
    const resource = ctx.state.resources.get(op.resourceKey);
    if (resource?.body.properties && tracksProvisioningState(resource.body)) resource.body.properties.provisioningState = 'Succeeded';
  }
}

/** How long a write of this type runs: its realistic duration scaled by the time factor, or the fixed duration. */
export function operationDurationMs(ctx: HandlerContext, model: Pick<ResourceTypeModel, 'realisticWriteMs'>): number {
  return ctx.lro.timeFactor !== undefined ? Math.round(model.realisticWriteMs * ctx.lro.timeFactor) : ctx.lro.durationMs;
}

/**
 * Starts an operation on a resource without a request, as another caller's would be (its creation by
 * a deployment, someone's update): the resource shows `provisioningState` until it ends, and writes in
 * the meantime get the RP's conflict.
 */
export function beginOperation(
  state: HandlerContext['state'],
  resourceId: string,
  durationMs: number,
  provisioningState = 'Updating',
): LongRunningOperation {
  const resource = state.resource(resourceId);
  if (!resource) throw new Error(`no resource ${resourceId}`);
  const op: LongRunningOperation = {
    id: randomUUID(),
    resourceKey: key(resource.id),
    status: 'InProgress',
    startTime: new Date().toISOString(),
    completeAt: Date.now() + durationMs,
    provisioningState,
  };
  state.operations.set(op.id, op);
  resource.body.properties = { ...(resource.body.properties ?? {}), provisioningState };
  return op;
}

export function operationInProgress(ctx: HandlerContext, resourceKey: string): LongRunningOperation | undefined {
  settleOperations(ctx);
  for (const op of ctx.state.operations.values()) if (op.resourceKey === resourceKey && op.status === 'InProgress') return op;
  return undefined;
}

interface WriteOutcome {
  created: boolean;
  resourceId: string;
  namespace: string;
  location: string;
  subscriptionId: string;
  apiVersion: string;
  body: Json;
}

/**
 * Shapes the answer to a PUT/PATCH the way the RP's long-running pattern does, and starts the
 * operation the monitor URL will report on.
 */
export function respondToWrite(
  ctx: HandlerContext,
  style: LroStyle,
  model: Pick<ResourceTypeModel, 'operationsSegment' | 'realisticWriteMs'>,
  outcome: WriteOutcome,
): EmulatorResponse {
  const operationsSegment = model.operationsSegment;
  const status = outcome.created ? 201 : 200;
  if (style === 'sync') {
    if (outcome.body.properties && tracksProvisioningState(outcome.body)) outcome.body.properties.provisioningState = 'Succeeded';
    return { status, body: outcome.body };
  }
  const provisioningState = outcome.created ? 'Creating' : 'Updating';
  const op: LongRunningOperation = {
    id: randomUUID(),
    resourceKey: key(outcome.resourceId),
    status: 'InProgress',
    startTime: new Date().toISOString(),
    completeAt: Date.now() + operationDurationMs(ctx, model),
    provisioningState,
  };
  ctx.state.operations.set(op.id, op);
  if (outcome.body.properties && tracksProvisioningState(outcome.body)) outcome.body.properties.provisioningState = provisioningState;
  const monitor = monitorUrl(ctx, outcome, operationsSegment, op.id);
  const retry = retryAfterHeader(ctx);
  if (style === 'location') return { status: 202, headers: { Location: monitor, ...retry } };
  return { status, body: outcome.body, headers: { 'Azure-AsyncOperation': monitor, ...retry } };
}

function monitorUrl(
  ctx: HandlerContext,
  at: { subscriptionId: string; namespace: string; location: string; apiVersion: string },
  segment: string,
  operationId: string,
): string {
  const location = encodeURIComponent(at.location.replace(/\s+/g, '').toLowerCase());
  return `${ctx.baseUrl}/subscriptions/${at.subscriptionId}/providers/${at.namespace}/locations/${location}/${segment}/${operationId}?api-version=${at.apiVersion}`;
}

interface DeleteTarget {
  resourceId: string;
  subscriptionId: string;
  namespace: string;
  location: string;
  apiVersion: string;
}

/**
 * A long-running DELETE (ResourceTypeModel.deleteLro): 202 with the RP's monitor header; the resource
 * stays readable with `provisioningState: Deleting` until the operation ends, and only then goes (its
 * system-assigned principal, and an AKS cluster's node resource group, with it; state.deleteResource).
 * A DELETE repeated while the first runs gets the same operation again, as ARM's idempotent deletes do.
 */
export function respondToDelete(
  ctx: HandlerContext,
  model: Pick<ResourceTypeModel, 'deleteLro' | 'operationsSegment' | 'realisticWriteMs'>,
  target: DeleteTarget,
  busy: (running: LongRunningOperation) => ArmError,
): EmulatorResponse {
  const lro = model.deleteLro!;
  const resourceKey = key(target.resourceId);
  const running = operationInProgress(ctx, resourceKey);
  if (running && running.verb !== 'delete') throw busy(running);
  const op: LongRunningOperation = running ?? {
    id: randomUUID(),
    resourceKey,
    status: 'InProgress',
    startTime: new Date().toISOString(),
    completeAt: Date.now() + operationDurationMs(ctx, model),
    provisioningState: 'Deleting',
    verb: 'delete',
    onSucceeded: () => ctx.state.deleteResource(target.resourceId),
  };
  if (!running) {
    ctx.state.operations.set(op.id, op);
    const body = ctx.state.resources.get(resourceKey)?.body;
    if (body && tracksProvisioningState(body)) body.properties = { ...(body.properties ?? {}), provisioningState: 'Deleting' };
  }
  const url = monitorUrl(ctx, target, lro.segment ?? model.operationsSegment, op.id);
  const header: Record<string, string> = { [lro.style === 'location' ? 'Location' : 'Azure-AsyncOperation']: url };
  return { status: 202, headers: { ...header, ...retryAfterHeader(ctx) } };
}

/** GET on an operation monitor: status documents for async-operation, resource bodies for location. */
export function handleOperationMonitor(ctx: HandlerContext, req: EmulatorRequest, segment: string, operationId: string): EmulatorResponse {
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on operation monitors.`);
  settleOperations(ctx);
  const op = ctx.state.operations.get(operationId.toLowerCase()) ?? ctx.state.operations.get(operationId);
  if (!op) throw new ArmError(404, 'OperationNotFound', `The operation '${operationId}' was not found.`);
  const retry = retryAfterHeader(ctx);
  if (segment.toLowerCase().endsWith('operationresults')) {
    if (op.status === 'InProgress')
      return { status: 202, headers: { ...retry, Location: `${ctx.baseUrl}${req.path}?api-version=${req.apiVersion}` } };
    const resource = ctx.state.resources.get(op.resourceKey);
    return resource ? { status: 200, body: resource.body } : { status: 204 };
  }
  const body: Json = { id: req.path, name: op.id, status: op.status, startTime: op.startTime };
  if (op.status !== 'InProgress') body.endTime = new Date(op.completeAt).toISOString();
  if (op.error) body.error = op.error;
  return { status: 200, body, headers: op.status === 'InProgress' ? retry : {} };
}
