import type { ResourceTypeHandler } from './model';

/**
 * ManagedClusters_UpdateTags takes tags only: GET, set identity, PUT (long-running). AKS holds one
 * identity kind at a time, so an existing identity of the other kind is left alone.
 */
export const managedClusters: ResourceTypeHandler = {
  type: 'Microsoft.ContainerService/managedClusters',
  apiVersion: '2024-09-01',
  identityWrite: 'get-modify-put',
  writeOperation: 'Microsoft.ContainerService/managedClusters/write',
  /** AKS 2024-09-01 `ResourceIdentityType`: "SystemAssigned", "UserAssigned", "None"; no combined kind. */
  identityTypeSpelling: { None: 'None', SystemAssigned: 'SystemAssigned', UserAssigned: 'UserAssigned' },
  note: 'identity is written by PUT of the whole cluster',
};
