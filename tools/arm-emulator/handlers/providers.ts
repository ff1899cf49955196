import { ArmError } from '../arm-error';
import { resourceTypeModels } from '../resource-types';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/**
 * Providers_Get (`GET /subscriptions/{s}/providers/{namespace}`): the namespace's resource types with
 * their api-versions, newest first, as ARM lists them. `az resource show --ids` reads it to choose an
 * api-version (azure-cli `resource/custom.py` `_ResourceUtils.resolve_api_version`: the first
 * non-preview entry), so the emulator serves it for the namespaces it models; found by
 * test/conformance. Spec: Azure/azure-rest-api-specs `specification/resources/resource-manager/
 * Microsoft.Resources/stable/2021-04-01/resources.json`, operation Providers_Get (model `Provider`).
 */
export function handleProvider(_ctx: HandlerContext, req: EmulatorRequest, subscriptionId: string, namespace: string): EmulatorResponse {
  if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'Only GET of a resource provider is emulated.');
  const models = resourceTypeModels().filter((m) => m.type.split('/')[0]!.toLowerCase() === namespace.toLowerCase());
  if (models.length === 0) {
    throw new ArmError(404, 'InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid.`);
  }
  const canonical = models[0]!.type.split('/')[0]!;
  return {
    status: 200,
    body: {
      id: `/subscriptions/${subscriptionId}/providers/${canonical}`,
      namespace: canonical,
      registrationState: 'Registered',
      registrationPolicy: 'RegistrationRequired',
      resourceTypes: models.map((m) => ({
        resourceType: m.type.slice(canonical.length + 1),
        locations: ['West Europe'],
        apiVersions: [...m.apiVersions].sort().reverse(),
        capabilities: 'None',
      })),
    },
  };
}
