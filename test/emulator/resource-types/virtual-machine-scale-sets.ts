import { SPACED_IDENTITY_TYPES, type ResourceTypeModel } from './model';

export const virtualMachineScaleSets: ResourceTypeModel = {
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  apiVersions: ['2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01'],
  patch: 'merge',
  identityTypes: SPACED_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'async-operation',
  operationsSegment: 'operations',
  validatePut: (body) => (body.sku ? undefined : "Required parameter 'sku' is missing (null)."),
};
