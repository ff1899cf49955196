import type { ResourceTypeHandler } from './model';

/** ContainerApps_Update is a JSON merge patch; 202 + Location, polled to completion. */
export const containerApps: ResourceTypeHandler = {
  type: 'Microsoft.App/containerApps',
  apiVersion: '2024-03-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.App/containerApps/write',
};
