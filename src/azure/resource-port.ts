import type { ResourceManagementClient } from '@azure/arm-resources';
import { canonicalResourceType } from '../config';
import { readIdentity } from '../engine/identity-state';
import type { ResourcePort } from '../engine/ports';
import type { IdentityBlock, IdentityState, ResourceState } from '../engine/types';
import { ArmCallError, InvalidResourceIdError } from '../errors';
import { armCall } from './arm-call-error';
import type { ArmClientPool } from './clients';
import { putWholeBody } from './long-running-put';
import { parseArmId } from './resource-id';
import { resourceTypeHandler } from './resource-types';

/** Reads resources and writes their identity through `@azure/arm-resources`, by id. */
export class ArmResourcePort implements ResourcePort {
  constructor(
    private readonly clients: ArmClientPool,
    private readonly options: { pollIntervalMs?: number } = {},
  ) {}

  private client(subscriptionId: string): ResourceManagementClient {
    return this.clients.for(subscriptionId).resources;
  }

  async read(resourceId: string, signal: AbortSignal): Promise<ResourceState | undefined> {
    const id = parseArmId(resourceId);
    const handler = resourceTypeHandler(id.type ?? '');
    const type = canonicalResourceType(id.type ?? '');
    if (!handler || !type || !id.resourceGroup) throw new InvalidResourceIdError(resourceId, `'${id.type}' is not a supported resource type`);
    let raw: Record<string, unknown> | undefined;
    try {
      await armCall(`GET ${resourceId}`, () =>
        this.client(id.subscriptionId!).resources.getById(resourceId, handler.apiVersion, {
          abortSignal: signal,
          // The raw body, not the SDK's model: a GET-modify-PUT must send back every property.
          onResponse: (response) => {
            raw = response.parsedBody as Record<string, unknown>;
          },
        }),
      );
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
    const body = raw ?? {};
    return {
      id: typeof body.id === 'string' ? body.id : resourceId,
      type,
      subscriptionId: id.subscriptionId!,
      resourceGroup: id.resourceGroup,
      name: id.name!,
      location: String(body.location ?? ''),
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      identity: readIdentity(body.identity),
      rawBody: body,
    };
  }

  async writeIdentity(resource: ResourceState, identity: IdentityBlock, signal: AbortSignal): Promise<IdentityState> {
    const handler = resourceTypeHandler(resource.type)!;
    const client = this.client(resource.subscriptionId);
    if (handler.identityWrite === 'patch') {
      const updated = await armCall(`PATCH identity of ${resource.id}`, () =>
        client.resources.beginUpdateByIdAndWait(resource.id, handler.apiVersion, { identity: identity as never }, { abortSignal: signal, updateIntervalInMs: this.options.pollIntervalMs }),
      );
      return readIdentity(updated.identity);
    }
    const body = { ...resource.rawBody, identity };
    const updated = await armCall(`PUT ${resource.id} with identity`, () =>
      putWholeBody(client, this.clients.connection.endpoint, resource.id, handler.apiVersion, body, { abortSignal: signal, pollIntervalMs: this.options.pollIntervalMs }),
    );
    return readIdentity(updated.identity);
  }
}
