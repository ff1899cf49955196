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
