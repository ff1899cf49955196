/**
 * The catalogue: the resource types whose managed identity this product knows how to turn on. This
 * literal is the only list of them (docs/architecture.md, "The catalogue"). Each type needs its own
 * write shape (src/azure/resource-types), so the list is closed: the rules file may narrow it but never
 * extend it. Every other list is derived from it, or keyed by `SupportedResourceType` so that a missing
 * entry fails to compile; lists that cannot be derived (Bicep, YAML, docs) are held against it by
 * test/architecture/catalogue.test.ts. This module is pure vocabulary: config, engine and the Azure
 * adapters all import it, and it imports nothing.
 */
export const SUPPORTED_RESOURCE_TYPES = [
  'Microsoft.Web/sites',
  // A child of `Microsoft.Web/sites`: each slot has an identity of its own, which a swap does not move.
  'Microsoft.Web/sites/slots',
  'Microsoft.App/containerApps',
  'Microsoft.App/jobs',
  'Microsoft.Compute/virtualMachines',
  'Microsoft.Compute/virtualMachineScaleSets',
  'Microsoft.ContainerInstance/containerGroups',
  'Microsoft.ContainerService/managedClusters',
] as const;

export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

/**
 * `true` when `Listed` names every catalogued type, otherwise an object naming the missing ones: for
 * lists that are not a `Record<SupportedResourceType, ...>` (label tables such as the emulator's seeds),
 * `const covered: CoversCatalogue<...> = true` fails to compile when a type is added to the catalogue only.
 */
export type CoversCatalogue<Listed extends string> = [Exclude<SupportedResourceType, Listed>] extends [never]
  ? true
  : { missingFromThisList: Exclude<SupportedResourceType, Listed> };

/** True for catalogued child types (`Microsoft.Web/sites/slots`): ids with more than one type/name pair. */
export function isChildResourceType(type: SupportedResourceType): boolean {
  return type.split('/').length > 2;
}

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
