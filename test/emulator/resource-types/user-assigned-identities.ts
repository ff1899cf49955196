import type { ResourceTypeModel } from './model';

/** userAssignedIdentities have their own handler; this entry carries api-versions and put semantics. */
export const userAssignedIdentities: ResourceTypeModel = {
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  apiVersions: ['2023-01-31', '2023-07-31-preview', '2024-11-30'],
  patch: 'merge',
  identityTypes: [],
  putLro: 'sync',
  patchLro: 'sync',
  operationsSegment: 'operations',
  validatePut: () => undefined,
  // Synchronous.
  realisticWriteMs: 0,
};
