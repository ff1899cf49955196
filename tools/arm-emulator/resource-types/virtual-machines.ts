import { type ResourceTypeModel, SPACED_IDENTITY_TYPES } from './model';

/** Compute answers PATCH with 200, provisioningState Updating, and an Azure-AsyncOperation monitor. */
export const virtualMachines: ResourceTypeModel = {
  type: 'Microsoft.Compute/virtualMachines',
  // 2020-06-01: compute version of the CLI's 2020-09-01-hybrid profile (test/conformance uses it where Debian's
  // azure-cli lacks 2022-11-01); spec Azure/azure-rest-api-specs specification/compute/.../stable/2020-06-01.
  // 2025-04-01: the api-version @azure/arm-compute 23.3.0 (test/conformance/typed-sdks.test.ts) sends; a stable version of the RP.
  apiVersions: ['2020-06-01', '2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01'],
  patch: 'merge',
  identityTypes: SPACED_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'async-operation',
  operationsSegment: 'operations',
  // VirtualMachines_Delete / VirtualMachineScaleSets_Delete (ComputeRP 2024-07-01): 200, 202, 204, long-running
  // with final-state-via location (@azure/arm-compute 23.3.0's beginDelete uses resourceLocationConfig "location").
  // Compute answers a 202 with its Azure-AsyncOperation monitor (as its PUTs); `Deleting` meanwhile.
  deleteLro: { style: 'async-operation' },
  validatePut: (body) => (body.properties?.hardwareProfile ? undefined : "Required parameter 'hardwareProfile' is missing (null)."),
  // A VM PATCH of identity installs the identity extension: tens of seconds (inferred).
  realisticWriteMs: 45_000,
};
