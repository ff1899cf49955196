import { EventGridManagementClient, type EventSubscription } from '@azure/arm-eventgrid';
import { ResourceManagementClient } from '@azure/arm-resources';
import { parseArmId } from '../arm/resource-id';
import { armCall } from '../azure/arm-call-error';
import { type ArmConnection, armClientOptions } from '../azure/clients';
import type { RulesConfig } from '../config';
import { AutopilotError } from '../errors';

/**
 * `identity-autopilot wire-events`: every governed subscription (those the rules list, and those under
 * the rules' management groups now) gets the Event Grid wiring the deployment gives its own: a
 * `Microsoft.Resources.Subscriptions` system topic (Azure allows one per subscription, so an existing
 * one is reused wherever it is) and an event subscription delivering the governed types' writes to the
 * Function. Idempotent: what already is as wanted is only read, never written again.
 */

/** Event subscription settings, the same as infra/event-subscription.bicep sets. */
export interface WireEventsOptions {
  /** Resource id of the Function App (`AZURE_FUNCTION_APP_ID`). */
  functionAppId: string;
  functionName?: string;
  /** Resource group that receives a new system topic in each subscription (created when missing). */
  topicResourceGroup: string;
  /** Region of that resource group when it has to be created. */
  location: string;
  eventSubscriptionName?: string;
  /** Dead-letter destination (`DEADLETTER_STORAGE_ACCOUNT_ID`); written with the topic's own identity. */
  deadLetter?: { storageAccountId: string; container: string };
}

export type WireAction = 'created' | 'updated' | 'unchanged' | 'reused';

export interface SubscriptionWiring {
  subscriptionId: string;
  topic?: { id: string; action: WireAction };
  eventSubscription?: { id: string; action: WireAction };
  error?: string;
}

const TOPIC_TYPE = 'Microsoft.Resources.Subscriptions';
const EVENT_TYPES = ['Microsoft.Resources.ResourceWriteSuccess', 'Microsoft.Resources.ResourceDeleteSuccess'];
/** A deleted Dapr component changes what the apps it served need (src/app/dapr-component-events.ts). */
const DAPR_COMPONENT_DELETE = 'Microsoft.App/managedEnvironments/daprComponents/delete';
/** A StringIn advanced filter holds at most 25 values (Learn: event-grid/event-filtering, limits). */
const MAX_FILTER_VALUES = 25;
const NAME = /^[A-Za-z0-9-]{3,64}$/;

/**
 * The event subscription the product wants (see infra/event-subscription.bicep): the governed types'
 * writes and deletes (a delete starts the clean-up of what the product made for the resource), tag
 * writes, and Dapr component deletes.
 */
export function desiredEventSubscription(rules: RulesConfig, options: WireEventsOptions): EventSubscription {
  const operationNames = [
    ...rules.scope.resourceTypes.map((t) => `${t}/write`),
    'Microsoft.Resources/tags/write',
    ...rules.scope.resourceTypes.map((t) => `${t}/delete`),
    DAPR_COMPONENT_DELETE,
  ];
  if (operationNames.length > MAX_FILTER_VALUES)
    throw new AutopilotError(
      'InvalidWiring',
      `${operationNames.length} operation names exceed the ${MAX_FILTER_VALUES} values of one StringIn filter`,
    );
  return {
    eventDeliverySchema: 'EventGridSchema',
    destination: {
      endpointType: 'AzureFunction',
      resourceId: `${options.functionAppId}/functions/${options.functionName ?? 'resourceWriteSuccess'}`,
      maxEventsPerBatch: 1,
      preferredBatchSizeInKilobytes: 64,
    },
    filter: {
      includedEventTypes: EVENT_TYPES,
      advancedFilters: [{ operatorType: 'StringIn', key: 'data.operationName', values: operationNames }],
    },
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
    ...(options.deadLetter
      ? {
          deadLetterWithResourceIdentity: {
            identity: { type: 'SystemAssigned' },
            deadLetterDestination: {
              endpointType: 'StorageBlob',
              resourceId: options.deadLetter.storageAccountId,
              blobContainerName: options.deadLetter.container,
            },
          },
        }
      : {}),
  };
}

/** The fields this command sets, compared case-insensitively where ARM ids may change case. */
function sameSubscription(existing: EventSubscription, wanted: EventSubscription): boolean {
  const pick = (e: EventSubscription) =>
    JSON.stringify({
      schema: e.eventDeliverySchema,
      destination: {
        ...e.destination,
        resourceId: ((e.destination as { resourceId?: string } | undefined)?.resourceId ?? '').toLowerCase(),
      },
      types: e.filter?.includedEventTypes,
      advanced: e.filter?.advancedFilters,
      retry: e.retryPolicy,
      deadLetter: e.deadLetterWithResourceIdentity
        ? {
            ...e.deadLetterWithResourceIdentity.deadLetterDestination,
            resourceId: (
              (e.deadLetterWithResourceIdentity.deadLetterDestination as { resourceId?: string } | undefined)?.resourceId ?? ''
            ).toLowerCase(),
          }
        : undefined,
    });
  return pick(existing) === pick(wanted);
}

function checkOptions(options: WireEventsOptions): void {
  const app = parseArmId(options.functionAppId);
  if (app.kind !== 'resource' || app.type?.toLowerCase() !== 'microsoft.web/sites' || app.isChild) {
    throw new AutopilotError('InvalidWiring', `'${options.functionAppId}' is not a Function App id (Microsoft.Web/sites)`);
  }
  if (!/^[-\w.()]{1,90}$/.test(options.topicResourceGroup) || options.topicResourceGroup.endsWith('.')) {
    throw new AutopilotError('InvalidWiring', `'${options.topicResourceGroup}' is not a resource group name`);
  }
  if (options.eventSubscriptionName !== undefined && !NAME.test(options.eventSubscriptionName)) {
    throw new AutopilotError(
      'InvalidWiring',
      `'${options.eventSubscriptionName}' is not an event subscription name (3-64 letters, digits and '-')`,
    );
  }
}

/** Wires one subscription. Reads first; writes only what is missing or different. */
async function wireSubscription(
  connection: ArmConnection,
  subscriptionId: string,
  wanted: EventSubscription,
  options: WireEventsOptions,
): Promise<SubscriptionWiring> {
  const clientOptions = armClientOptions(connection);
  const eventGrid = new EventGridManagementClient(connection.credential, subscriptionId, clientOptions);
  const resources = new ResourceManagementClient(connection.credential, subscriptionId, clientOptions);
  const source = `/subscriptions/${subscriptionId}`;
  const result: SubscriptionWiring = { subscriptionId };
  let topic: { id: string; name: string; resourceGroup: string } | undefined;
  for await (const t of eventGrid.systemTopics.listBySubscription()) {
    if (t.topicType?.toLowerCase() === TOPIC_TYPE.toLowerCase() && t.source?.toLowerCase() === source.toLowerCase() && t.id) {
      topic = { id: t.id, name: t.name!, resourceGroup: parseArmId(t.id).resourceGroup! };
      break;
    }
  }
  if (topic) {
    result.topic = { id: topic.id, action: 'reused' };
  } else {
    const rg = options.topicResourceGroup;
    const exists = await armCall(`HEAD resource group ${rg}`, () => resources.resourceGroups.checkExistence(rg));
    if (!exists.body)
      await armCall(`PUT resource group ${rg}`, () =>
        resources.resourceGroups.createOrUpdate(rg, { location: options.location, tags: { application: 'identity-autopilot' } }),
      );
    const name = `evgt-arm-${subscriptionId.slice(0, 8)}`;
    const created = await armCall(`PUT system topic ${name}`, () =>
      eventGrid.systemTopics.beginCreateOrUpdateAndWait(rg, name, {
        location: 'global',
        identity: { type: 'SystemAssigned' },
        source,
        topicType: TOPIC_TYPE,
        tags: { application: 'identity-autopilot' },
      }),
    );
    topic = {
      id: created.id ?? `${source}/resourceGroups/${rg}/providers/Microsoft.EventGrid/systemTopics/${name}`,
      name,
      resourceGroup: rg,
    };
    result.topic = { id: topic.id, action: 'created' };
  }
  const subscriptionName = options.eventSubscriptionName ?? 'identity-autopilot';
  const existing = await eventGrid.systemTopicEventSubscriptions
    .get(topic.resourceGroup, topic.name, subscriptionName)
    .catch((e: { statusCode?: number }) => {
      if (e.statusCode === 404) return undefined;
      throw e;
    });
  const id = `${topic.id}/eventSubscriptions/${subscriptionName}`;
  if (existing && sameSubscription(existing, wanted)) {
    result.eventSubscription = { id, action: 'unchanged' };
    return result;
  }
  await armCall(`PUT event subscription ${subscriptionName}`, () =>
    eventGrid.systemTopicEventSubscriptions.beginCreateOrUpdateAndWait(topic!.resourceGroup, topic!.name, subscriptionName, wanted),
  );
  result.eventSubscription = { id, action: existing ? 'updated' : 'created' };
  return result;
}

/**
 * Wires every subscription the rules govern now. Each subscription is wired on its own: one that fails
 * (no access, a topic being deleted) is reported with its error and the others still get done.
 */
export async function wireEvents(
  connection: ArmConnection,
  rules: RulesConfig,
  governed: { resolved(signal: AbortSignal): Promise<RulesConfig> },
  options: WireEventsOptions,
): Promise<SubscriptionWiring[]> {
  checkOptions(options);
  const wanted = desiredEventSubscription(rules, options);
  const subscriptions = (await governed.resolved(AbortSignal.timeout(60_000))).scope.subscriptions;
  const results: SubscriptionWiring[] = [];
  for (const subscriptionId of subscriptions) {
    try {
      results.push(await wireSubscription(connection, subscriptionId, wanted, options));
    } catch (e) {
      results.push({ subscriptionId, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}

/** One line per subscription, for the CLI's table output. */
export function renderWiring(results: readonly SubscriptionWiring[]): string {
  const lines = results.map((r) =>
    r.error
      ? `${r.subscriptionId}  failed: ${r.error}`
      : `${r.subscriptionId}  topic ${r.topic?.action} (${r.topic?.id})  event subscription ${r.eventSubscription?.action}`,
  );
  const writes = results.filter(
    (r) => r.topic?.action === 'created' || (r.eventSubscription && r.eventSubscription.action !== 'unchanged'),
  ).length;
  return `${lines.join('\n')}\n${results.length} subscription(s) wired, ${writes} with changes, ${results.filter((r) => r.error).length} failed\n`;
}
