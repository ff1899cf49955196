/**
 * The resource types whose managed identity this product knows how to turn on, and what each can
 * hold. Each needs its own write shape (src/azure/resource-types), so the list is closed: the rules
 * file may narrow it but never extend it. This module is pure vocabulary: config, engine and the Azure
 * adapters all import it, and it imports nothing.
 */
export const SUPPORTED_RESOURCE_TYPES = [
  'Microsoft.Web/sites',
  'Microsoft.App/containerApps',
  'Microsoft.Compute/virtualMachines',
  'Microsoft.Compute/virtualMachineScaleSets',
  'Microsoft.ContainerInstance/containerGroups',
  'Microsoft.ContainerService/managedClusters',
] as const;

export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

const BY_LOWER = new Map<string, SupportedResourceType>(SUPPORTED_RESOURCE_TYPES.map((t) => [t.toLowerCase(), t]));

/** The canonical spelling of a supported type (ARM types are case-insensitive), or undefined. */
export function canonicalResourceType(type: string): SupportedResourceType | undefined {
  return BY_LOWER.get(type.toLowerCase());
}

/**
 * ARM's terminal provisioning states (Azure/azure-resource-manager-rpc v1.0/async-api-reference.md; the same
 * three are what kubernetes-sigs/cluster-api-provider-azure treats as terminal for AKS agent pools:
 * "Succeeded", "Failed" and "Canceled" are terminal; every other value means an operation is running).
 */
const TERMINAL_PROVISIONING_STATES = new Set(['succeeded', 'failed', 'canceled']);

/** True while an operation on the resource is running (Creating, Updating, Accepted, InProgress, Deleting...). */
export function isProvisioningBusy(provisioningState: string | undefined): boolean {
  return provisioningState !== undefined && provisioningState !== '' && !TERMINAL_PROVISIONING_STATES.has(provisioningState.toLowerCase());
}
