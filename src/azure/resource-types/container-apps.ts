import { tryParseArmId } from '../../arm/resource-id';
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
  // Read by the sweep's Resource Graph row too, so a sweep sees the Dapr settings a GET sees.
  graphProperties: ['configuration', 'managedEnvironmentId', 'environmentId'],
  /**
   * `properties.configuration.dapr.enabled` and `.appId` (ContainerApps.json 2024-03-01, `Dapr`), and
   * the managed environment the app runs in (`managedEnvironmentId`, or `environmentId` in newer
   * api-versions): its `daprComponents` scoped to this app id are what the sidecar loads.
   */
  daprApp: (body) => {
    const props = (body.properties ?? {}) as {
      configuration?: { dapr?: { enabled?: unknown; appId?: unknown } };
      managedEnvironmentId?: unknown;
      environmentId?: unknown;
    };
    const dapr = props.configuration?.dapr;
    const environment = [props.managedEnvironmentId, props.environmentId].find((v): v is string => typeof v === 'string' && v.length > 0);
    const env = environment ? tryParseArmId(environment) : undefined;
    if (dapr?.enabled !== true || typeof dapr.appId !== 'string' || dapr.appId.length === 0 || env?.kind !== 'resource') return undefined;
    if (env.type?.toLowerCase() !== 'microsoft.app/managedenvironments') return undefined;
    return { appId: dapr.appId, environmentId: env.id };
  },
};
