import type { FollowUpNeed, IdentityCapabilities } from '../../engine/types';
import { shellCommand } from '../../text/shell-word';
import type { ArmRequester } from '../resource-action';
import { SPACED_IDENTITY_TYPES } from './identity-spelling';
import type { ResourceTypeHandler } from './model';

export const UPGRADE_INSTANCES = 'UpgradeInstances';

/**
 * VirtualMachineScaleSets_Update (PATCH) takes identity; long-running via Azure-AsyncOperation.
 *
 * Upgrade policy (Learn, virtual-machine-scale-sets-upgrade-policy; azure-cli `assign_vmss_identity` in
 * src/azure-cli/azure/cli/command_modules/vm/custom.py, which warns "With manual upgrade mode, you will
 * need to run 'az vmss update-instances -g .. -n .. --instance-ids *' to propagate the change"):
 * with `Manual` (the default when `upgradePolicy` is absent, and what `az vmss create` sets), a model
 * change such as the identity does not reach existing instances until they are upgraded; `Automatic`
 * and `Rolling` roll the change out themselves.
 */
export const virtualMachineScaleSets: ResourceTypeHandler = {
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  apiVersion: '2024-07-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.Compute/virtualMachineScaleSets/write',
  identityTypeSpelling: SPACED_IDENTITY_TYPES,
  // The sweep plans from Resource Graph rows: they must show the orchestration mode and upgrade policy too.
  graphProperties: ['orchestrationMode', 'upgradePolicy'],
  identityCapabilitiesOf: (body) => (isFlexible(body) ? FLEXIBLE_CAPABILITIES : undefined),
  followUp: (body) => (isFlexible(body) ? undefined : manualUpgradeNeed(body)),
  // Azure RBAC operations of Microsoft.Compute: list the instances, then the manual upgrade itself.
  followUpPermissions: {
    optIn: 'upgradeInstances',
    actions: [
      'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
      'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action',
    ],
    // Whether the instances run the model (with the identity) is read whatever the opt-in: the outcome
    // is `pending` while they do not.
    checkActions: ['Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read'],
  },
  async runFollowUp(arm, resourceId, code) {
    if (code !== UPGRADE_INSTANCES) throw new Error(`no follow-up '${code}' for scale sets`);
    const behind = await instancesBehind(arm, resourceId, this.apiVersion);
    if (behind.length === 0) return undefined;
    // VirtualMachineScaleSets_UpdateInstances: POST {vmss}/manualupgrade with
    // VirtualMachineScaleSetVMInstanceRequiredIDs { instanceIds } (required), 200/202, long-running
    // (virtualMachineScaleSet.json, Microsoft.Compute 2024-07-01); what `az vmss update-instances
    // --instance-ids *` does, naming the instances.
    await arm.action(`${resourceId}/manualupgrade`, this.apiVersion, { instanceIds: behind });
    return `upgraded ${behind.length} instance(s) to the scale set's latest model (manualupgrade)`;
  },
  async followUpNeeded(arm, resourceId, code) {
    if (code !== UPGRADE_INSTANCES) throw new Error(`no follow-up '${code}' for scale sets`);
    return (await instancesBehind(arm, resourceId, this.apiVersion)).length > 0;
  },
  busyRetrySeconds: 30,
};

/**
 * Flexible orchestration (`properties.orchestrationMode`, VirtualMachineScaleSetProperties in
 * virtualMachineScaleSet.json 2024-07-01; absent means Uniform). Learn's orchestration-modes table
 * (virtual-machine-scale-sets-orchestration-modes) says "Managed Identity: User Assigned Identity Only"
 * for Flexible, and the RP refuses SystemAssigned with 400 InvalidParameter "The value 'SystemAssigned'
 * of parameter 'identity' is not allowed. Allowed values are: UserAssigned, None." (quoted in
 * Azure/bicep-registry-modules#2671 and Azure/Azure-Landing-Zones#3994). Its instances are standalone
 * VMs (Microsoft.Compute/virtualMachines, governed through their own events), not reachable through the
 * Uniform instance APIs (virtualMachines list, manualupgrade), so a Flexible set has no follow-up.
 */
export function isFlexible(body: Record<string, unknown>): boolean {
  const mode = (body.properties as { orchestrationMode?: unknown } | undefined)?.orchestrationMode;
  return typeof mode === 'string' && /^flexible$/i.test(mode);
}

const FLEXIBLE_CAPABILITIES: IdentityCapabilities = {
  // True: the one-kind-at-a-time rule does not apply (several user-assigned identities are kept);
  // SystemAssigned is refused through noSystemAssigned.
  systemAndUserAssigned: true,
  noSystemAssigned: {
    detail: 'the scale set uses Flexible orchestration, which holds user-assigned identities only (Azure refuses SystemAssigned)',
    remedy:
      "give the rule 'identity: { kind: UserAssigned, ... }' so the product attaches a user-assigned identity, or attach one yourself ('az vmss identity assign --identities <id>'); its VMs are governed as virtual machines",
  },
};

/**
 * VirtualMachineScaleSetVMs_List (GET {vmss}/virtualMachines, 2024-07-01): the instances not running
 * the latest model (`properties.latestModelApplied` not true; a missing flag counts as behind).
 */
async function instancesBehind(arm: ArmRequester, resourceId: string, apiVersion: string): Promise<string[]> {
  const instances = await arm.list(`${resourceId}/virtualMachines`, apiVersion);
  return instances
    .filter((i) => (i.properties as { latestModelApplied?: unknown } | undefined)?.latestModelApplied !== true)
    .map((i) => i.instanceId)
    .filter((i): i is string => typeof i === 'string');
}

function manualUpgradeNeed(body: Record<string, unknown>): FollowUpNeed | undefined {
  const properties = (body.properties ?? {}) as { upgradePolicy?: { mode?: unknown } };
  const mode = typeof properties.upgradePolicy?.mode === 'string' ? properties.upgradePolicy.mode : 'Manual';
  if (!/^manual$/i.test(mode)) return undefined;
  const capacity = (body.sku as { capacity?: unknown } | undefined)?.capacity;
  // An empty scale set has no instance to leave behind; new instances are built from the new model.
  if (capacity === 0) return undefined;
  const { id, name } = body as { id?: string; name?: string };
  const rg = /\/resourceGroups\/([^/]+)/i.exec(String(id ?? ''))?.[1] ?? '<resource group>';
  return {
    code: UPGRADE_INSTANCES,
    optIn: 'upgradeInstances',
    detail: "the scale set's upgrade policy is Manual: existing instances get the identity only when they are upgraded to the latest model",
    // Every word shell-quoted (the `*` above all, which a shell would expand to the files where it runs).
    remedy: `run \`${shellCommand(['az', 'vmss', 'update-instances', '-g', rg, '-n', name ?? '<name>', '--instance-ids', '*'])}\` (it applies every pending model change), or set 'workload: { upgradeInstances: true }' on the rule`,
  };
}
