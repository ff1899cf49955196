import { randomUUID } from 'node:crypto';
import { ArmError } from '../arm-error';
import { authorize } from '../authorization';
import { addModelledOperations } from '../rp-models';
import { type Json, key, type StoredResource } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';

/**
 * Event Grid system topics and their event subscriptions (Microsoft.EventGrid, api-version 2022-06-15,
 * the one `@azure/arm-eventgrid` 14.1.0 calls; spec `specification/eventgrid/resource-manager/
 * Microsoft.EventGrid/stable/2022-06-15/EventGrid.json` in Azure/azure-rest-api-specs, too large to store:
 * bodies are checked against that SDK's models instead, see rp-models.ts). Stricter than a friendly fake:
 * - one `Microsoft.Resources.Subscriptions` topic per subscription, its `source` that subscription
 *   (infra/app/system-topic.bicep; Learn: event-grid/system-topics "only one system topic per source");
 * - an AzureFunction destination must name a function of an existing Function App, because Event Grid
 *   validates the endpoint when the subscription is created (infra/event-subscription.bicep);
 * - a StringIn advanced filter holds at most 25 values (Learn: event-grid/event-filtering).
 * Writes answer 200/201 with the final body (provisioningState Succeeded), which the SDK's poller accepts.
 */
export const EVENT_GRID_API_VERSIONS = ['2022-06-15', '2023-12-15-preview', '2025-02-15'];

const LIST = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.EventGrid\/systemTopics$/i;
const TOPIC = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.EventGrid\/systemTopics\/([^/]+)$/i;
const EVENT_SUBSCRIPTION =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.EventGrid\/systemTopics\/[^/]+)\/eventSubscriptions\/([^/]+)$/i;

addModelledOperations([
  {
    pkg: '@azure/arm-eventgrid',
    method: 'GET',
    path: LIST,
    operationId: 'SystemTopics_ListBySubscription',
    response: 'SystemTopicsListResult',
    responseRoundTrip: true,
  },
  {
    pkg: '@azure/arm-eventgrid',
    method: 'GET',
    path: TOPIC,
    operationId: 'SystemTopics_Get',
    response: 'SystemTopic',
    responseRoundTrip: true,
  },
  {
    pkg: '@azure/arm-eventgrid',
    method: 'PUT',
    path: TOPIC,
    operationId: 'SystemTopics_CreateOrUpdate',
    request: 'SystemTopic',
    response: 'SystemTopic',
    responseRoundTrip: true,
  },
  {
    pkg: '@azure/arm-eventgrid',
    method: 'GET',
    path: EVENT_SUBSCRIPTION,
    operationId: 'SystemTopicEventSubscriptions_Get',
    response: 'EventSubscription',
    responseRoundTrip: true,
  },
  {
    pkg: '@azure/arm-eventgrid',
    method: 'PUT',
    path: EVENT_SUBSCRIPTION,
    operationId: 'SystemTopicEventSubscriptions_CreateOrUpdate',
    request: 'EventSubscription',
    response: 'EventSubscription',
    responseRoundTrip: true,
  },
]);

export function isEventGridPath(path: string): boolean {
  return LIST.test(path) || TOPIC.test(path) || EVENT_SUBSCRIPTION.test(path);
}

/** Event Grid's own error: a 400 with the service's code. */
const invalid = (message: string) => new ArmError(400, 'InvalidRequest', message);

export function handleEventGrid(ctx: HandlerContext, req: EmulatorRequest): EmulatorResponse {
  const list = LIST.exec(req.path);
  if (list) {
    if (req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed here.`);
    const prefix = `${key(`/subscriptions/${list[1]}`)}/`;
    authorize(ctx.state, req.principal, { action: 'Microsoft.EventGrid/systemTopics/read', scope: `/subscriptions/${list[1]}` });
    const value = [...ctx.state.resources.values()].filter((r) => key(r.id).startsWith(prefix) && isTopic(r)).map((r) => r.body);
    return { status: 200, body: { value } };
  }
  const sub = EVENT_SUBSCRIPTION.exec(req.path);
  if (sub) return eventSubscription(ctx, req, sub[1]!, sub[2]!);
  const topic = TOPIC.exec(req.path)!;
  return systemTopic(ctx, req, topic[1]!, topic[2]!, topic[3]!);
}

function isTopic(r: StoredResource): boolean {
  return String(r.body.type).toLowerCase() === 'microsoft.eventgrid/systemtopics';
}

function systemTopic(
  ctx: HandlerContext,
  req: EmulatorRequest,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): EmulatorResponse {
  const id = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.EventGrid/systemTopics/${name}`;
  const existing = ctx.state.resources.get(key(id));
  if (req.method === 'GET') {
    authorize(ctx.state, req.principal, { action: 'Microsoft.EventGrid/systemTopics/read', scope: id });
    if (!existing)
      throw new ArmError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.EventGrid/systemTopics/${name}' under resource group '${resourceGroup}' was not found.`,
      );
    return { status: 200, body: existing.body };
  }
  if (req.method !== 'PUT') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed here.`);
  authorize(ctx.state, req.principal, { action: 'Microsoft.EventGrid/systemTopics/write', scope: id });
  if (!ctx.state.resourceGroups.has(key(`/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`))) {
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
  }
  const body = (req.body ?? {}) as Json;
  const props = (body.properties ?? {}) as Json;
  if (String(props.topicType ?? '').toLowerCase() !== 'microsoft.resources.subscriptions')
    throw invalid(`The emulator serves only topicType Microsoft.Resources.Subscriptions, not '${String(props.topicType)}'.`);
  if (String(props.source ?? '').toLowerCase() !== `/subscriptions/${subscriptionId}`.toLowerCase())
    throw invalid(`The source of a subscription topic must be its own subscription '/subscriptions/${subscriptionId}'.`);
  const other = [...ctx.state.resources.values()].find(
    (r) => isTopic(r) && key(r.id) !== key(id) && String(r.body.properties?.source).toLowerCase() === String(props.source).toLowerCase(),
  );
  if (other)
    throw invalid(
      `Only one system topic is allowed per source. Topic '${other.body.name}' already exists for source '${String(props.source)}'.`,
    );
  const identity =
    body.identity?.type === 'SystemAssigned'
      ? (existing?.body.identity ?? {
          type: 'SystemAssigned',
          principalId: ctx.state.directory.create({ displayName: `system topic ${name}` }).id,
          tenantId: ctx.state.tenantId,
        })
      : undefined;
  const stored: Json = {
    id,
    name,
    type: 'Microsoft.EventGrid/systemTopics',
    location: body.location ?? 'global',
    tags: body.tags ?? {},
    ...(identity ? { identity } : {}),
    properties: { source: props.source, topicType: props.topicType, metricResourceId: randomUUID(), provisioningState: 'Succeeded' },
  };
  ctx.state.resources.set(key(id), { id, body: stored });
  return { status: existing ? 200 : 201, body: stored };
}

function eventSubscription(ctx: HandlerContext, req: EmulatorRequest, topicId: string, name: string): EmulatorResponse {
  const id = `${topicId}/eventSubscriptions/${name}`;
  const topic = ctx.state.resources.get(key(topicId));
  const stored = ctx.state.resources.get(key(id));
  if (req.method === 'GET') {
    authorize(ctx.state, req.principal, { action: 'Microsoft.EventGrid/systemTopics/eventSubscriptions/read', scope: id });
    if (!topic || !stored) throw new ArmError(404, 'ResourceNotFound', `The event subscription '${name}' was not found.`);
    return { status: 200, body: stored.body };
  }
  if (req.method !== 'PUT') throw new ArmError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed here.`);
  authorize(ctx.state, req.principal, { action: 'Microsoft.EventGrid/systemTopics/eventSubscriptions/write', scope: id });
  if (!topic) throw new ArmError(404, 'ResourceNotFound', `The system topic '${topicId}' was not found.`);
  const props = ((req.body ?? {}) as Json).properties as Json | undefined;
  const destination = props?.destination as Json | undefined;
  if (destination?.endpointType === 'AzureFunction') {
    const fn = /^(.*\/providers\/Microsoft\.Web\/sites\/[^/]+)\/functions\/[^/]+$/i.exec(String(destination.properties?.resourceId ?? ''));
    if (!fn || !ctx.state.resource(fn[1]!))
      throw invalid(
        `Destination endpoint '${String(destination.properties?.resourceId)}' is not a function of an existing Function App: webhook validation handshake failed.`,
      );
  }
  for (const f of (props?.filter?.advancedFilters ?? []) as Json[]) {
    if (Array.isArray(f.values) && f.values.length > 25)
      throw invalid(`Advanced filter '${String(f.key)}' has ${f.values.length} values; at most 25 are allowed.`);
  }
  const body: Json = {
    id,
    name,
    type: 'Microsoft.EventGrid/eventSubscriptions',
    properties: { ...props, topic: topicId, provisioningState: 'Succeeded' },
  };
  ctx.state.resources.set(key(id), { id, body });
  return { status: stored ? 200 : 201, body };
}
