import { SPACED_IDENTITY_TYPES } from './identity-spelling';
import type { ResourceTypeHandler } from './model';

/** VirtualMachineScaleSets_Update (PATCH) takes identity; long-running via Azure-AsyncOperation. */
export const virtualMachineScaleSets: ResourceTypeHandler = {
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  apiVersion: '2024-07-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.Compute/virtualMachineScaleSets/write',
  identityTypeSpelling: SPACED_IDENTITY_TYPES,
};
