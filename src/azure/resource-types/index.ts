import { canonicalResourceType, type SupportedResourceType } from '../../arm/resource-types';
import type { ResourceState } from '../../engine/types';
import { containerAppJobs } from './container-app-jobs';
import { containerApps } from './container-apps';
import { containerGroups } from './container-groups';
import { managedClusters } from './managed-clusters';
import type { ResourceTypeHandler } from './model';
import { virtualMachineScaleSets } from './virtual-machine-scale-sets';
import { virtualMachines } from './virtual-machines';
import { webSiteSlots } from './web-site-slots';
import { webSites } from './web-sites';

export type { ResourceTypeHandler } from './model';

/** Per-type knowledge, reached only through the catalogue's type union: a type without a module does not compile. */
export const RESOURCE_TYPE_HANDLERS: Readonly<Record<SupportedResourceType, ResourceTypeHandler>> = {
  'Microsoft.Web/sites': webSites,
  'Microsoft.Web/sites/slots': webSiteSlots,
  'Microsoft.App/containerApps': containerApps,
  'Microsoft.App/jobs': containerAppJobs,
  'Microsoft.Compute/virtualMachines': virtualMachines,
  'Microsoft.Compute/virtualMachineScaleSets': virtualMachineScaleSets,
  'Microsoft.ContainerInstance/containerGroups': containerGroups,
  'Microsoft.ContainerService/managedClusters': managedClusters,
};

export function resourceTypeHandler(type: string): ResourceTypeHandler | undefined {
  const canonical = canonicalResourceType(type);
  return canonical ? RESOURCE_TYPE_HANDLERS[canonical] : undefined;
}

/** What a type's module reads from a body for the pure planner: generic facts, never the type name. */
export type ResourceFacts = Pick<
  ResourceState,
  | 'identityWriteNote'
  | 'blockers'
  | 'identityCapabilities'
  | 'principals'
  | 'etag'
  | 'provisioningState'
  | 'busyRetryMs'
  | 'workloadIdentity'
  | 'dapr'
  | 'followUp'
>;

/**
 * The facts the planner needs from one body (a full GET, or a Resource Graph row shaped like one).
 * `etagHeader` is the GET's ETag header, used when the body carries none.
 */
export function resourceFacts(handler: ResourceTypeHandler, body: Record<string, unknown>, etagHeader?: string): ResourceFacts {
  const bodyEtag = [body.eTag, body.etag].find((v): v is string => typeof v === 'string' && v.length > 0);
  return {
    identityWriteNote: handler.note,
    blockers: handler.writeBlockers?.(body) ?? [],
    // Derived from the RP's spelling table unless the module says more (AKS may switch kinds).
    identityCapabilities: handler.identityCapabilitiesOf?.(body) ??
      handler.identityCapabilities ?? {
        systemAndUserAssigned: handler.identityTypeSpelling['SystemAssigned, UserAssigned'] !== undefined,
      },
    principals: handler.principals?.(body),
    etag: handler.concurrency === 'etag' ? (bodyEtag ?? etagHeader) : undefined,
    provisioningState: provisioningStateOf(body),
    busyRetryMs: handler.busyRetrySeconds * 1000,
    workloadIdentity: handler.workloadIdentity?.(body),
    ...(handler.daprApp?.(body) ? { dapr: handler.daprApp(body) } : {}),
    followUp: handler.followUp?.(body),
  };
}

function provisioningStateOf(body: Record<string, unknown>): string | undefined {
  const state = (body.properties as { provisioningState?: unknown } | undefined)?.provisioningState;
  return typeof state === 'string' ? state : undefined;
}
