import { randomUUID } from 'node:crypto';
import { ArmError } from '../arm-error';
import { authorize } from '../authorization';
import { instanceBody, isFlexible, scaleSetInstances } from '../resource-types/virtual-machine-scale-sets';
import { key, type LongRunningOperation } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';
import { operationInProgress } from './operations';

/** `{scale set id}/virtualMachines[/{instanceId}]` and `{scale set id}/manualupgrade`. */
export const SCALE_SET_CHILD =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/[^/]+)\/(virtualMachines|manualupgrade)(?:\/([^/]+))?$/i;

/**
 * VirtualMachineScaleSetVMs_List / _Get and VirtualMachineScaleSets_UpdateInstances
 * (virtualMachineScaleSet.json, Microsoft.Compute 2024-07-01).
 */
export function handleScaleSetChild(
  ctx: HandlerContext,
  req: EmulatorRequest,
  scaleSetId: string,
  child: string,
  instanceId?: string,
): EmulatorResponse {
  const name = scaleSetId.split('/').pop()!;
  const stored = ctx.state.resource(scaleSetId);
  if (child.toLowerCase() === 'virtualmachines') {
    if (req.method !== 'GET')
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported here by the emulator.`);
    authorize(ctx.state, req.principal, { action: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read', scope: scaleSetId });
    if (stored && isFlexible(stored.body)) refuseOnFlexible(req, child, name);
    operationInProgress(ctx, key(scaleSetId)); // settles finished operations first
    if (!stored)
      throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${name}' was not found.`);
    const instances = scaleSetInstances(ctx.state, stored.body);
    if (instanceId === undefined) return { status: 200, body: { value: instances.map((i) => instanceBody(stored.body, i)) } };
    const instance = instances.find((i) => i.instanceId === instanceId);
    if (!instance) throw new ArmError(404, 'NotFound', `The entity was not found in this Azure location.`);
    return { status: 200, body: instanceBody(stored.body, instance) };
  }
  if (instanceId !== undefined || req.method !== 'POST')
    throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported on manualupgrade.`);
  authorize(ctx.state, req.principal, { action: 'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action', scope: scaleSetId });
  if (stored && isFlexible(stored.body)) refuseOnFlexible(req, child, name);
  if (!stored)
    throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${name}' was not found.`);
  // VirtualMachineScaleSetVMInstanceRequiredIDs: `instanceIds` is required. Stricter than Azure is
  // known to be (inferred): every id must name an existing instance; no `*` wildcard.
  const ids = req.body?.instanceIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string')) {
    throw new ArmError(400, 'InvalidParameter', "Required parameter 'instanceIds' is missing or empty.");
  }
  const instances = scaleSetInstances(ctx.state, stored.body);
  const unknown = ids.filter((i) => !instances.some((x) => x.instanceId === i));
  if (unknown.length > 0)
    throw new ArmError(400, 'InvalidParameter', `The instance ids '${unknown.join(', ')}' are not valid for scale set '${name}'.`);
  if (operationInProgress(ctx, key(scaleSetId))) {
    throw new ArmError(
      409,
      'AnotherOperationInProgress',
      `Another operation on this or dependent resource is in progress. To retry later, please wait for the operation on '${name}' to complete.`,
    );
  }
  // Long-running: the instances reach the latest model only when the operation succeeds.
  const op: LongRunningOperation = {
    id: randomUUID(),
    resourceKey: key(scaleSetId),
    status: 'InProgress',
    startTime: new Date().toISOString(),
    completeAt: Date.now() + ctx.lro.durationMs,
    onSucceeded: () => {
      const model = ctx.state.resource(scaleSetId)?.body;
      for (const instance of instances) {
        if (!ids.includes(instance.instanceId)) continue;
        instance.identity = model?.identity;
        instance.latestModelApplied = true;
      }
    },
  };
  ctx.state.operations.set(op.id, op);
  const subscriptionId = scaleSetId.split('/')[2]!;
  const location = String(stored.body.location ?? 'westeurope')
    .replace(/\s+/g, '')
    .toLowerCase();
  const monitor = `${ctx.baseUrl}/subscriptions/${subscriptionId}/providers/Microsoft.Compute/locations/${encodeURIComponent(location)}/operations/${op.id}?api-version=${req.apiVersion}`;
  const retry: Record<string, string> = ctx.lro.retryAfterSeconds > 0 ? { 'Retry-After': String(ctx.lro.retryAfterSeconds) } : {};
  return { status: 202, headers: { 'Azure-AsyncOperation': monitor, ...retry } };
}

/**
 * A Flexible scale set's VMs are standalone virtual machines: the Uniform instance APIs are refused.
 * Learn's orchestration-modes page lists the scale-set VM APIs as Uniform only; the refusal's wording
 * follows the one quoted in hashicorp/nomad-autoscaler#1096 ("Operation
 * 'VirtualMachineScaleSets.instanceView.GET' is not allowed on Virtual Machine Scale Set"); the code and
 * status (400 OperationNotAllowed) are inferred. Checked after authorization, as ARM authorizes first.
 */
function refuseOnFlexible(req: EmulatorRequest, child: string, name: string): never {
  const operation = child.toLowerCase() === 'virtualmachines' ? 'VirtualMachineScaleSetVMs' : 'VirtualMachineScaleSets.manualUpgrade';
  throw new ArmError(
    400,
    'OperationNotAllowed',
    `Operation '${operation}.${req.method}' is not allowed on Virtual Machine Scale Set '${name}' since it uses Flexible orchestration mode.`,
  );
}
