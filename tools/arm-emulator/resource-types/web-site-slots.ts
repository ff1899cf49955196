import type { ResourceTypeModel } from './model';
import { webSites } from './web-sites';

/**
 * App Service deployment slots: `Microsoft.Web/sites/{site}/slots/{slot}`, served by the same RP as the
 * site with the same patterns (WebApps_GetSlot / _UpdateSlot / _CreateOrUpdateSlot in Azure/azure-rest-api-specs
 * specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/WebApps.json). A slot lives only
 * under an existing site: ARM refuses any other with 404 ParentResourceNotFound (see `parentType`).
 */
export const webSiteSlots: ResourceTypeModel = {
  type: 'Microsoft.Web/sites/slots',
  parentType: webSites.type,
  // The stored GetWebAppSlot.json example names a slot `sitef6141/staging`: parent and slot.
  nameOf: (id) => id.segments.map((s) => s.name).join('/'),
  apiVersions: webSites.apiVersions,
  patch: 'merge',
  identityTypes: webSites.identityTypes,
  putLro: webSites.putLro,
  patchLro: webSites.patchLro,
  operationsSegment: webSites.operationsSegment,
  provisioningState: false,
  validatePut: webSites.validatePut,
  realisticWriteMs: webSites.realisticWriteMs,
};
