import type { ResourceTypeHandler } from './model';

/** ContainerGroups_Update takes tags only: GET, set identity, PUT the whole group (long-running). */
export const containerGroups: ResourceTypeHandler = {
  type: 'Microsoft.ContainerInstance/containerGroups',
  apiVersion: '2023-05-01',
  identityWrite: 'get-modify-put',
  writeOperation: 'Microsoft.ContainerInstance/containerGroups/write',
  note: 'identity is written by PUT of the whole container group, which restarts its containers',
};
