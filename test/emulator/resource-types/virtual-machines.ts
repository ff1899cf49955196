import { SPACED_IDENTITY_TYPES, type ResourceTypeModel } from './model';

/** Compute answers PATCH with 200, provisioningState Updating, and an Azure-AsyncOperation monitor. */
export const virtualMachines: ResourceTypeModel = {
  type: 'Microsoft.Compute/virtualMachines',
  apiVersions: ['2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01'],
  patch: 'merge',
  identityTypes: SPACED_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'async-operation',
  operationsSegment: 'operations',
  validatePut: (body) => (body.properties?.hardwareProfile ? undefined : "Required parameter 'hardwareProfile' is missing (null)."),
  // A VM PATCH of identity installs the identity extension: tens of seconds (inferred).
  realisticWriteMs: 45_000,
};
