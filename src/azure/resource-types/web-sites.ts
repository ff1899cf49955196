import { SPACED_IDENTITY_TYPES } from './identity-spelling';
import type { ResourceTypeHandler } from './model';

/** App Service and Function apps: WebApps_Update (PATCH) takes `identity`; usually answers 200 at once. */
export const webSites: ResourceTypeHandler = {
  type: 'Microsoft.Web/sites',
  apiVersion: '2024-04-01',
  identityWrite: 'patch',
  writeOperation: 'Microsoft.Web/sites/write',
  identityTypeSpelling: SPACED_IDENTITY_TYPES,
  busyRetrySeconds: 10,
};
