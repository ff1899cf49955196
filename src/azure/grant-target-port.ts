import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { grantTargetApiVersion, KEY_VAULT_TYPE } from '../arm/grant-targets';
import { parseArmId } from '../arm/resource-id';
import type { CallBudget } from '../engine/call-budget';
import type { GrantTarget, GrantTargetPort } from '../engine/ports';
import { ArmCallError, AutopilotError } from '../errors';
import { armCall } from './arm-call-error';
import { forCall, sdkOptions } from './call-options';
import type { ArmClientPool } from './clients';

/** Subscriptions: GET /subscriptions/{id} (Microsoft.Resources, 2022-12-01; see azure-facts.md "ARM tokens"). */
const SUBSCRIPTIONS_API_VERSION = '2022-12-01';

/**
 * Reads the scope a tag named, so the engine can prove it exists and is what ARM says it is. One GET by
 * id with the api-version listed for its type in src/arm/grant-targets.ts: the rules loader only
 * accepts declared types from that list, so an unlisted type here means a hand-built config.
 */
export class ArmGrantTargetPort implements GrantTargetPort {
  constructor(private readonly clients: ArmClientPool) {}

  async read(scope: string, call: CallBudget | AbortSignal): Promise<GrantTarget | undefined> {
    const id = parseArmId(scope);
    if (!id.subscriptionId) throw new AutopilotError('GrantTargetTypeNotAllowed', `'${scope}' is not inside a subscription`);
    const client = this.clients.for(id.subscriptionId).resources;
    try {
      switch (id.kind) {
        case 'resource': {
          const apiVersion = grantTargetApiVersion(id.type ?? '');
          if (!apiVersion) throw new AutopilotError('GrantTargetTypeNotAllowed', `the product cannot verify a target of type ${id.type}`);
          const found = await armCall(`GET ${id.id}`, () => client.resources.getById(id.id, apiVersion, sdkOptions(call)));
          const target: GrantTarget = { id: found.id ?? id.id, type: found.type ?? '', tags: found.tags ?? {} };
          if (target.type.toLowerCase() !== KEY_VAULT_TYPE.toLowerCase()) return target;
          // Only a literal `true` is the RBAC model: absent or anything else is the access-policy default.
          const rbac = (found.properties as { enableRbacAuthorization?: unknown } | undefined)?.enableRbacAuthorization;
          return { ...target, enableRbacAuthorization: rbac === true };
        }
        case 'resourceGroup': {
          const found = await armCall(`GET ${id.id}`, () => client.resourceGroups.get(id.resourceGroup!, sdkOptions(call)));
          return { id: found.id ?? id.id, type: found.type ?? 'Microsoft.Resources/resourceGroups', tags: found.tags ?? {} };
        }
        case 'subscription': {
          const url = `${this.clients.connection.endpoint.replace(/\/$/, '')}/subscriptions/${encodeURIComponent(id.subscriptionId)}?api-version=${SUBSCRIPTIONS_API_VERSION}`;
          const response = await armCall(`GET ${id.id}`, () =>
            client.sendRequest(forCall(createPipelineRequest({ url, method: 'GET' }), call)),
          );
          if (response.status === 404) return undefined;
          if (response.status !== 200)
            throw new ArmCallError(
              `Http${response.status}`,
              `GET ${id.id}: HTTP ${response.status}`,
              response.status,
              response.status >= 500,
            );
          return { id: id.id, type: 'Microsoft.Resources/subscriptions', tags: {} };
        }
        default:
          throw new AutopilotError('GrantTargetTypeNotAllowed', `'${scope}' is a ${id.kind} scope`);
      }
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
  }
}
