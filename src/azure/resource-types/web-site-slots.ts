import { SPACED_IDENTITY_TYPES } from './identity-spelling';
import type { ResourceTypeHandler } from './model';
import { webSites } from './web-sites';

/**
 * App Service deployment slots (`Microsoft.Web/sites/{site}/slots/{slot}`), a child of the site with an
 * identity of its own: a swap exchanges content and settings, not identities, so a `staging` slot a
 * pipeline creates has none. WebApps_UpdateSlot is the same PATCH of `SitePatchResource` as
 * WebApps_Update, answered the same way (Azure/azure-rest-api-specs specification/web/resource-manager/
 * Microsoft.Web/stable/2024-04-01/WebApps.json); its identity enum is the Web RP's spaced one.
 */
export const webSiteSlots: ResourceTypeHandler = {
  type: 'Microsoft.Web/sites/slots',
  apiVersion: webSites.apiVersion,
  identityWrite: 'patch',
  writeOperation: 'Microsoft.Web/sites/slots/write',
  identityTypeSpelling: SPACED_IDENTITY_TYPES,
  busyRetrySeconds: webSites.busyRetrySeconds,
};
