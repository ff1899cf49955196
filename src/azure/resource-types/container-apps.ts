import type { ResourceTypeHandler } from './model';

/** ContainerApps_Update is a JSON merge patch; 202 + Location, polled to completion. */
export const containerApps: ResourceTypeHandler = {
  type: 'Microsoft.App/containerApps',
  apiVersion: '2024-03-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.App/containerApps/write',
  /**
   * Microsoft.App 2024-03-01 takes `identity` from common-types v3 `ManagedServiceIdentityType`, which
   * spells the combined kind without a space: "SystemAssigned,UserAssigned"
   * (Azure/azure-rest-api-specs specification/common-types/resource-management/v3/managedidentity.json,
   * commit 05432ee0). The Azure CLI's containerapp extension and Terraform azurerm send the same string.
   */
  identityTypeSpelling: {
    None: 'None',
    SystemAssigned: 'SystemAssigned',
    UserAssigned: 'UserAssigned',
    'SystemAssigned, UserAssigned': 'SystemAssigned,UserAssigned',
  },
  busyRetrySeconds: 15,
  // ContainerApps_Update's body is the whole `ContainerApp` model, a TrackedResource whose `location`
  // is required (Azure/azure-rest-api-specs specification/app/resource-manager/Microsoft.App/stable/
  // 2024-03-01/ContainerApps.json; @azure/arm-appcontainers' ContainerApp mapper marks it required).
  // Found by test/conformance/typed-sdks.test.ts.
  identityPatchBody: (identity, resource) => ({ location: resource.location, identity }),
};
