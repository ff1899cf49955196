import { containerApps } from './container-apps';
import type { ResourceTypeHandler } from './model';

/**
 * Container Apps jobs. Jobs_Update is a JSON merge patch ("Patches a Container Apps Job using JSON Merge
 * Patch") and a long-running operation answered 200, or 202 with a `Location` header and no
 * final-state-via (Azure/azure-rest-api-specs specification/app/resource-manager/Microsoft.App/stable/
 * 2024-03-01/Jobs.json); the Azure CLI's `ContainerAppsJobClient.update` polls that Location until it
 * answers with the job (Azure/azure-cli containerapp `_clients.py`). Same RP as container apps, so the
 * same identity block: common-types v3 ManagedServiceIdentity, "SystemAssigned,UserAssigned".
 */
export const containerAppJobs: ResourceTypeHandler = {
  type: 'Microsoft.App/jobs',
  apiVersion: '2024-03-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.App/jobs/write',
  identityTypeSpelling: containerApps.identityTypeSpelling,
  // Jobs_Update's body is `JobPatchProperties` (identity, tags, properties; no location), so the default
  // `{ identity }` body is complete (test/conformance/typed-sdks.test.ts checks it with the SDK's mapper).
  busyRetrySeconds: containerApps.busyRetrySeconds,
};
