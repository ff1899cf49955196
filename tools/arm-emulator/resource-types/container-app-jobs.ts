import { containerApps } from './container-apps';
import type { ResourceTypeModel } from './model';

/**
 * Container Apps jobs, the same RP and patterns as container apps. Jobs_Update is a JSON merge patch
 * whose 202 carries `Location` (Azure/azure-rest-api-specs specification/app/resource-manager/
 * Microsoft.App/stable/2024-03-01/Jobs.json: responses 200 and 202 with a Location header,
 * x-ms-long-running-operation without final-state-via), and the Azure CLI's
 * `ContainerAppsJobClient.update` polls that Location until it answers with the job (Azure/azure-cli
 * src/azure-cli/azure/cli/command_modules/containerapp/_clients.py). The stored Job_Patch.json example
 * shows `azure-asyncoperation` on its 202 instead; the emulator follows the spec's declared header and
 * the CLI, so a client that only knows Azure-AsyncOperation fails here (stricter, never friendlier).
 * Jobs_CreateOrUpdate: final-state-via azure-async-operation (same file).
 */
export const containerAppJobs: ResourceTypeModel = {
  type: 'Microsoft.App/jobs',
  // The RP's api-versions are shared across its types; 2025-07-01 is what @azure/arm-appcontainers 3.0.0 sends.
  apiVersions: containerApps.apiVersions,
  patch: 'merge',
  identityTypes: containerApps.identityTypes,
  putLro: 'async-operation',
  patchLro: 'location',
  // The monitor segment of the Job_Patch.json example.
  operationsSegment: 'containerappsjobOperationResults',
  // Job_Get.json has `properties.environmentId`; like container apps, a job without its environment is refused.
  validatePut: (body) => (body.properties?.environmentId ? undefined : "The parameter 'properties.environmentId' is required."),
  realisticWriteMs: containerApps.realisticWriteMs,
};
