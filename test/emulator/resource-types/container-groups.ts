import { ALL_IDENTITY_TYPES, type ResourceTypeModel } from './model';

/**
 * ContainerGroups_Update takes tags only, so identity is written by GET-modify-PUT of the whole group
 * (which restarts its containers).
 */
export const containerGroups: ResourceTypeModel = {
  type: 'Microsoft.ContainerInstance/containerGroups',
  apiVersions: ['2021-10-01', '2022-09-01', '2023-05-01'],
  patch: 'tags-only',
  identityTypes: ALL_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'sync',
  operationsSegment: 'operations',
  validatePut: (body) => {
    const containers = body.properties?.containers;
    if (!Array.isArray(containers) || containers.length === 0) return "The container group must have at least one container in 'properties.containers'.";
    if (!body.properties?.osType) return "The parameter 'properties.osType' is required.";
    return undefined;
  },
};
