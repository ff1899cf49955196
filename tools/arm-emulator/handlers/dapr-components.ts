import { ArmError, notFound, requireApiVersion } from '../arm-error';
import { authorize } from '../authorization';
import { type EmulatorState, type Json, key } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/**
 * Dapr components of a Container Apps managed environment: `.../Microsoft.App/managedEnvironments/{env}/daprComponents[/{name}]`
 * (Azure/azure-rest-api-specs specification/app/resource-manager/Microsoft.App/stable/2024-03-01/DaprComponents.json:
 * DaprComponents_List, _Get, _CreateOrUpdate answering 200, not long-running). Traffic is checked against
 * `@azure/arm-appcontainers`' DaprComponent model (rp-models.ts).
 *
 * Secret values are write-only: a GET returns each secret's name (and Key Vault reference), never its
 * `value`; the RP serves values only through the separate `listSecrets` action (DaprComponents_ListSecrets).
 * A PUT that leaves out the value of a stored inline secret is refused here (stricter than Azure, which
 * would store the component without it: either way the secret is lost to a read-modify-write).
 */
export const DAPR_COMPONENT_ROUTE =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.App\/managedEnvironments\/[^/]+)\/daprComponents(?:\/([^/]+))?$/i;
export const DAPR_COMPONENT_TYPE = 'Microsoft.App/managedEnvironments/daprComponents';
export const MANAGED_ENVIRONMENT_TYPE = 'Microsoft.App/managedEnvironments';
// The api-versions the Container Apps model serves (resource-types/container-apps.ts): one RP.
const API_VERSIONS = ['2023-05-01', '2024-03-01', '2025-01-01', '2025-07-01'];

/** A component as a GET shows it: secrets without their values. */
export function daprComponentView(body: Json): Json {
  const secrets = body.properties?.secrets;
  if (!Array.isArray(secrets)) return body;
  return { ...body, properties: { ...body.properties, secrets: secrets.map(({ value: _value, ...rest }: Json) => rest) } };
}

export function handleDaprComponents(
  ctx: HandlerContext,
  req: EmulatorRequest,
  environmentId: string,
  name: string | undefined,
): EmulatorResponse {
  requireApiVersion(req, API_VERSIONS, 'managedEnvironments/daprComponents');
  const env = ctx.state.resource(environmentId);
  const envName = environmentId.split('/').pop()!;
  if (!env || String(env.body.type).toLowerCase() !== MANAGED_ENVIRONMENT_TYPE.toLowerCase())
    throw notFound(MANAGED_ENVIRONMENT_TYPE, envName, environmentId.split('/')[4]);
  const action = (verb: string) => ({
    action: `${DAPR_COMPONENT_TYPE}/${verb}`,
    scope: name ? `${env.id}/daprComponents/${name}` : env.id,
  });
  if (!name) {
    if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported.`);
    authorize(ctx.state, req.principal, action('read'));
    return { status: 200, body: { value: componentsOf(ctx.state, env.id).map(daprComponentView) } };
  }
  const id = `${env.id}/daprComponents/${name}`;
  const existing = ctx.state.resource(id);
  switch (req.method) {
    case 'GET':
      authorize(ctx.state, req.principal, action('read'));
      if (!existing) throw notFound(DAPR_COMPONENT_TYPE, name, environmentId.split('/')[4]);
      return { status: 200, body: daprComponentView(existing.body) };
    case 'PUT': {
      authorize(ctx.state, req.principal, action('write'));
      const props = req.body?.properties;
      if (!props || typeof props !== 'object')
        throw new ArmError(400, 'InvalidRequestContent', "The request content was invalid: 'properties' is required.");
      if (typeof props.componentType !== 'string' || props.componentType === '')
        throw new ArmError(400, 'InvalidParameter', "The parameter 'properties.componentType' is required.");
      for (const stored of (existing?.body.properties?.secrets ?? []) as Json[]) {
        if (stored.keyVaultUrl) continue;
        const sent = ((props.secrets ?? []) as Json[]).find((s) => s.name === stored.name);
        if (sent && typeof sent.value !== 'string') {
          throw new ArmError(
            400,
            'InvalidParameter',
            `The secret '${stored.name}' of Dapr component '${name}' has no value: secret values are write-only and must be sent with every update.`,
          );
        }
      }
      const body = putComponent(ctx.state, env.id, name, props);
      return { status: 200, body: daprComponentView(body) };
    }
    case 'DELETE':
      authorize(ctx.state, req.principal, action('delete'));
      return ctx.state.deleteResource(id) ? { status: 200 } : { status: 204 };
    default:
      throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported.`);
  }
}

function componentsOf(state: EmulatorState, environmentId: string): Json[] {
  const prefix = `${key(environmentId)}/daprcomponents/`;
  return [...state.resources.entries()].filter(([k]) => k.startsWith(prefix)).map(([, r]) => r.body);
}

/** Stores a component (the handler's PUT, and test seeds). */
export function putComponent(state: EmulatorState, environmentId: string, name: string, properties: Json): Json {
  const id = `${environmentId}/daprComponents/${name}`;
  const { provisioningState: _ps, ...props } = structuredClone(properties);
  const body: Json = { id, name, type: DAPR_COMPONENT_TYPE, properties: { ...props, provisioningState: 'Succeeded' } };
  state.resources.set(key(id), { id, body });
  return body;
}
