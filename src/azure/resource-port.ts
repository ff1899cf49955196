import type { ResourceManagementClient } from '@azure/arm-resources';
import { parseArmId } from '../arm/resource-id';
import { canonicalResourceType } from '../config';
import type { CallBudget } from '../engine/call-budget';
import type { PendingWrite } from '../engine/hand-off';
import { readIdentity } from '../engine/identity-state';
import type { ResourcePort } from '../engine/ports';
import type { ClusterWorkloadIdentityChange, IdentityBlock, IdentityState, ResourceState, WorkloadIdentityFacts } from '../engine/types';
import { ArmCallError, AutopilotError, InvalidResourceIdError, ResourceGoneError } from '../errors';
import { armCall } from './arm-call-error';
import { budgetOf, sdkOptions } from './call-options';
import type { ArmClientPool } from './clients';
import { resumeOperation, writeResource } from './long-running-write';
import { armRequester } from './resource-action';
import { ResourceGroupManagedByCache } from './resource-group-cache';
import { type ResourceTypeHandler, resourceFacts, resourceTypeHandler } from './resource-types';
import type { IdentityKind } from './resource-types/model';

/** Reads resources and writes their identity through `@azure/arm-resources`, by id. */
export class ArmResourcePort implements ResourcePort {
  constructor(
    private readonly clients: ArmClientPool,
    private readonly options: { pollIntervalMs?: number } = {},
    /** Per app instance: a group's managedBy practically never changes (see the cache). */
    private readonly resourceGroups = new ResourceGroupManagedByCache(),
  ) {}

  private client(subscriptionId: string): ResourceManagementClient {
    return this.clients.for(subscriptionId).resources;
  }

  async read(resourceId: string, call: CallBudget | AbortSignal): Promise<ResourceState | undefined> {
    const id = parseArmId(resourceId);
    const handler = resourceTypeHandler(id.type ?? '');
    const type = canonicalResourceType(id.type ?? '');
    if (!handler || !type || !id.resourceGroup)
      throw new InvalidResourceIdError(resourceId, `'${id.type}' is not a supported resource type`);
    let raw: Record<string, unknown> | undefined;
    let etagHeader: string | undefined;
    // In parallel: the group's managedBy (usually cached) costs no time beside the resource's own GET.
    // Settled into a value at once, so a failure while the resource GET runs is never an unhandled rejection.
    const groupManagedBy = this.resourceGroupManagedBy(id.subscriptionId!, id.resourceGroup, call).then(
      (managedBy) => ({ managedBy }),
      (error: unknown) => ({ error }),
    );
    try {
      await armCall(`GET ${resourceId}`, () =>
        this.client(id.subscriptionId!).resources.getById(resourceId, handler.apiVersion, {
          ...sdkOptions(call),
          // The raw body, not the SDK's model: a GET-modify-PUT must send back every property.
          onResponse: (response) => {
            raw = response.parsedBody as Record<string, unknown>;
            etagHeader = response.headers.get('etag') ?? undefined;
          },
        }),
      );
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
    const body = raw ?? {};
    const managedBy = typeof body.managedBy === 'string' && body.managedBy.length > 0 ? body.managedBy : undefined;
    const group = await groupManagedBy;
    if ('error' in group) throw group.error;
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
      ...resourceFacts(handler, body, etagHeader),
      managedBy,
      resourceGroupManagedBy: group.managedBy,
    };
  }

  /** The resource group's `managedBy` (undefined when none), from the cache or one GET. */
  private async resourceGroupManagedBy(
    subscriptionId: string,
    resourceGroup: string,
    call: CallBudget | AbortSignal,
  ): Promise<string | undefined> {
    const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
    try {
      return await this.resourceGroups.getOrLoad(groupId, async () => {
        const group = await armCall(`GET ${groupId}`, () =>
          this.client(subscriptionId).resourceGroups.get(resourceGroup, sdkOptions(call)),
        );
        return group.managedBy && group.managedBy.length > 0 ? group.managedBy : undefined;
      });
    } catch (e) {
      // A missing group means a missing resource: its own GET answers that (nothing is cached). Anything
      // else (a 403) fails the remediation: without knowing, the product must not write.
      if (e instanceof ArmCallError && e.isNotFound) return undefined;
      throw e;
    }
  }

  async runFollowUp(resource: ResourceState, code: string, call: CallBudget | AbortSignal): Promise<string | undefined> {
    const handler = resourceTypeHandler(resource.type)!;
    if (!handler.runFollowUp)
      throw new ArmCallError('FollowUpUnsupported', `${resource.type} has no follow-up '${code}'`, undefined, false);
    const arm = armRequester(this.client(resource.subscriptionId), this.clients.connection.endpoint, {
      budget: budgetOf(call),
      pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    });
    return armCall(`${code} on ${resource.id}`, () => handler.runFollowUp!(arm, resource.id, code));
  }

  async followUpNeeded(resource: ResourceState, code: string, call: CallBudget | AbortSignal): Promise<boolean> {
    const handler = resourceTypeHandler(resource.type)!;
    if (!handler.followUpNeeded) return true;
    const arm = armRequester(this.client(resource.subscriptionId), this.clients.connection.endpoint, {
      budget: budgetOf(call),
      pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    });
    return armCall(`check ${code} on ${resource.id}`, () => handler.followUpNeeded!(arm, resource.id, code));
  }

  async writeIdentity(resource: ResourceState, identity: IdentityBlock, call: CallBudget | AbortSignal): Promise<IdentityState> {
    const handler = resourceTypeHandler(resource.type)!;
    const client = this.client(resource.subscriptionId);
    // Types with optimistic concurrency: the write holds only if nobody changed the resource since the
    // read it was built from; a 412 makes the engine read again (see applyPlan).
    const ifMatch = handler.concurrency === 'etag' ? resource.etag : undefined;
    const options = { budget: budgetOf(call), pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, ifMatch };
    const spelled = spellIdentity(handler, identity);
    const [method, body] =
      handler.identityWrite === 'patch'
        ? (['PATCH', handler.identityPatchBody?.(spelled, resource) ?? { identity: spelled }] as const)
        : (['PUT', { ...resource.rawBody, identity: spelled }] as const);
    try {
      const updated = await armCall(
        `${method} identity of ${resource.id}`,
        () => writeResource(client, this.clients.connection.endpoint, method, resource.id, handler.apiVersion, body, options),
        handler,
      );
      return readIdentity(updated.identity);
    } catch (e) {
      // Only the resource's own 404 means it is gone; other 404s (an identity's resource group) are failures.
      if (e instanceof ArmCallError && e.isNotFound) throw new ResourceGoneError(resource.id, e);
      throw e;
    }
  }

  async enableWorkloadIdentity(
    resource: ResourceState,
    change: ClusterWorkloadIdentityChange,
    call: CallBudget | AbortSignal,
  ): Promise<WorkloadIdentityFacts> {
    const handler = resourceTypeHandler(resource.type)!;
    if (!handler.enableWorkloadIdentityBody || !handler.workloadIdentity) {
      throw new AutopilotError('WorkloadIdentityUnsupported', `${resource.type} has no workload identity settings`);
    }
    const ifMatch = handler.concurrency === 'etag' ? resource.etag : undefined;
    const options = { budget: budgetOf(call), pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, ifMatch };
    const body = handler.enableWorkloadIdentityBody(resource.rawBody, change);
    try {
      const updated = await armCall(
        `PUT workload identity settings of ${resource.id}`,
        () =>
          writeResource(
            this.client(resource.subscriptionId),
            this.clients.connection.endpoint,
            'PUT',
            resource.id,
            handler.apiVersion,
            body,
            options,
          ),
        handler,
      );
      return handler.workloadIdentity(updated);
    } catch (e) {
      if (e instanceof ArmCallError && e.isNotFound) throw new ResourceGoneError(resource.id, e);
      throw e;
    }
  }

  async resumeWrite(write: PendingWrite, call: CallBudget | AbortSignal): Promise<void> {
    const endpoint = this.clients.connection.endpoint;
    // The monitor URL travels on the queue: it is only ever polled with the app's token on ARM itself.
    if (!sameOrigin(write.monitor.url, endpoint)) {
      throw new AutopilotError(
        'InvalidOperationMonitor',
        `the operation monitor of ${write.resourceId} is not on ${new URL(endpoint).origin}`,
      );
    }
    const id = parseArmId(write.resourceId);
    const options = { budget: budgetOf(call), pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS };
    await armCall(
      `poll the identity write of ${write.resourceId}`,
      () => resumeOperation(this.client(id.subscriptionId!), endpoint, write.monitor, options),
      resourceTypeHandler(id.type ?? ''),
    );
  }
}

function sameOrigin(url: string, endpoint: string): boolean {
  try {
    return new URL(url).origin === new URL(endpoint).origin;
  } catch {
    return false;
  }
}

/** The identity block with its kind spelled the way this type's RP spec spells it. */
function spellIdentity(handler: ResourceTypeHandler, identity: IdentityBlock): IdentityBlock {
  const type = handler.identityTypeSpelling[identity.type as IdentityKind];
  if (!type) throw new AutopilotError('UnsupportedIdentityType', `${handler.type} cannot hold an identity of kind '${identity.type}'`);
  return { ...identity, type };
}

/** The SDK's own default when an RP sends no Retry-After. */
export const DEFAULT_POLL_INTERVAL_MS = 2000;
