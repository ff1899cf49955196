import type { SupportedResourceType } from '../../../src/arm/resource-types';
import type { Json } from '../state';
import { containerAppJobs } from './container-app-jobs';
import { containerApps } from './container-apps';
import { containerGroups } from './container-groups';
import { managedClusters } from './managed-clusters';
import type { ResourceTypeModel } from './model';
import { userAssignedIdentities } from './user-assigned-identities';
import { virtualMachineScaleSets } from './virtual-machine-scale-sets';
import { virtualMachines } from './virtual-machines';
import { webSiteSlots } from './web-site-slots';
import { webSites } from './web-sites';

export type { LroStyle, ResourceTypeModel } from './model';

/** One model per catalogued workload type (src/arm/resource-types.ts): a type without one does not compile. */
const WORKLOAD_MODELS: Readonly<Record<SupportedResourceType, ResourceTypeModel>> = {
  'Microsoft.Web/sites': webSites,
  'Microsoft.Web/sites/slots': webSiteSlots,
  'Microsoft.App/containerApps': containerApps,
  'Microsoft.App/jobs': containerAppJobs,
  'Microsoft.Compute/virtualMachines': virtualMachines,
  'Microsoft.Compute/virtualMachineScaleSets': virtualMachineScaleSets,
  'Microsoft.ContainerInstance/containerGroups': containerGroups,
  'Microsoft.ContainerService/managedClusters': managedClusters,
};

const MODELS = [...Object.values(WORKLOAD_MODELS), userAssignedIdentities];

const BY_TYPE = new Map(MODELS.map((m) => [m.type.toLowerCase(), m]));
const NAMESPACES = new Set(MODELS.map((m) => m.type.split('/')[0]!.toLowerCase()));

export function resourceTypeModel(type: string): ResourceTypeModel | undefined {
  return BY_TYPE.get(type.toLowerCase());
}

/** A stored body as the RP's GET shows it (write-only fields left out where the RP leaves them out). */
export function readView(body: Json): Json {
  const model = resourceTypeModel(String(body.type ?? ''));
  return model?.readView ? model.readView(body) : body;
}

export function resourceTypeModels(): readonly ResourceTypeModel[] {
  return MODELS;
}

/** Whether resources of this body's type carry `properties.provisioningState`. */
export function tracksProvisioningState(body: { type?: unknown }): boolean {
  return resourceTypeModel(String(body.type ?? ''))?.provisioningState !== false;
}

export function isKnownNamespace(namespace: string): boolean {
  return NAMESPACES.has(namespace.toLowerCase());
}
