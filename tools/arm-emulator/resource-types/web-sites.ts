import { type ResourceTypeModel, SPACED_IDENTITY_TYPES } from './model';

/** App Service apps and function apps. WebApps_Update answers 200 synchronously for identity changes. */
export const webSites: ResourceTypeModel = {
  type: 'Microsoft.Web/sites',
  // 2025-03-01: the api-version @azure/arm-appservice 18.0.0 (test/conformance/typed-sdks.test.ts) sends; a stable version of the RP.
  apiVersions: ['2022-03-01', '2022-09-01', '2023-01-01', '2023-12-01', '2024-04-01', '2024-11-01', '2025-03-01'],
  patch: 'merge',
  identityTypes: SPACED_IDENTITY_TYPES,
  putLro: 'async-operation',
  patchLro: 'sync',
  operationsSegment: 'operations',
  // WebApps.json's Site has no properties.provisioningState (the @azure/arm-appservice Site mapper,
  // generated from it, neither); found by the RP model checks (tools/arm-emulator/rp-models.ts).
  provisioningState: false,
  validatePut: (body) => (body.properties?.serverFarmId ? undefined : "The parameter 'properties.serverFarmId' is required."),
  // WebApps_Update answers identity changes synchronously.
  realisticWriteMs: 0,
};
