import { canonicalResourceType, type SupportedResourceType } from '../../arm/resource-types';
import { containerApps } from './container-apps';
import { containerGroups } from './container-groups';
import { managedClusters } from './managed-clusters';
import type { ResourceTypeHandler } from './model';
import { virtualMachineScaleSets } from './virtual-machine-scale-sets';
import { virtualMachines } from './virtual-machines';
import { webSites } from './web-sites';

export type { ResourceTypeHandler } from './model';

export const RESOURCE_TYPE_HANDLERS: Readonly<Record<SupportedResourceType, ResourceTypeHandler>> = {
  'Microsoft.Web/sites': webSites,
  'Microsoft.App/containerApps': containerApps,
  'Microsoft.Compute/virtualMachines': virtualMachines,
  'Microsoft.Compute/virtualMachineScaleSets': virtualMachineScaleSets,
  'Microsoft.ContainerInstance/containerGroups': containerGroups,
  'Microsoft.ContainerService/managedClusters': managedClusters,
};

export function resourceTypeHandler(type: string): ResourceTypeHandler | undefined {
  const canonical = canonicalResourceType(type);
  return canonical ? RESOURCE_TYPE_HANDLERS[canonical] : undefined;
}
