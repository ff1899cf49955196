import { SPACED_IDENTITY_TYPES } from './identity-spelling';
import type { ResourceTypeHandler } from './model';

/** VirtualMachines_Update (PATCH) takes VirtualMachineIdentity; long-running via Azure-AsyncOperation. */
export const virtualMachines: ResourceTypeHandler = {
  type: 'Microsoft.Compute/virtualMachines',
  apiVersion: '2024-07-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.Compute/virtualMachines/write',
  identityTypeSpelling: SPACED_IDENTITY_TYPES,
  busyRetrySeconds: 20,
};
