import { COMMON_TYPES_V3_IDENTITY_TYPES, type ResourceTypeModel } from './model';

/**
 * ContainerApps_Update is a JSON merge patch answered with 202 + Location (no Azure-AsyncOperation):
 * Azure/azure-rest-api-specs specification/app/resource-manager/Microsoft.App/stable/2024-03-01/
 * ContainerApps.json ("Patches a Container App using JSON Merge Patch"; responses 200 and 202 with a
 * Location header; x-ms-long-running-operation without final-state-via). The identity block is
 * common-types v3 ManagedServiceIdentity, whose combined kind is "SystemAssigned,UserAssigned".
 */
export const containerApps: ResourceTypeModel = {
  type: 'Microsoft.App/containerApps',
  // 2025-07-01: the api-version @azure/arm-appcontainers 3.0.0 (test/conformance/typed-sdks.test.ts) sends; a stable version of the RP.
  apiVersions: ['2023-05-01', '2024-03-01', '2025-01-01', '2025-07-01'],
  patch: 'merge',
  identityTypes: COMMON_TYPES_V3_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'location',
  operationsSegment: 'containerappOperationResults',
  // ContainerApps_Delete (ContainerApps.json 2024-03-01, commit 16c9ca76): 200, 202 with a Location header, 204;
  // x-ms-long-running-operation with final-state-via location. The provisioningState enum has `Deleting`.
  deleteLro: { style: 'location' },
  validatePut: (body) =>
    body.properties?.managedEnvironmentId || body.properties?.environmentId
      ? undefined
      : "The parameter 'properties.environmentId' is required.",
  // Container Apps revisions roll in tens of seconds (inferred; no documented figure).
  realisticWriteMs: 30_000,
};
