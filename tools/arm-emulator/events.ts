import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Verbatim samples from Azure/azure-rest-api-specs
 * (specification/eventgrid/data-plane/Microsoft.Resources/stable/2018-01-01/examples/{event-grid-schema,cloud-events-schema}/,
 * commits in specs/PROVENANCE.md), in both envelopes. Learn, "Azure Resource Manager as an Event Grid source"
 * (event-grid/event-schema-resource-groups / event-schema-subscriptions) shows the same events.
 */
const SAMPLES = join(__dirname, 'event-samples');
const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export interface EventInput {
  resourceId: string;
  /** Defaults to `{type}/write` of the resource (`{type}/delete` for a delete event). */
  operationName?: string;
  /** Object id of whoever made the write (default: a person). */
  callerObjectId?: string;
  callerAppId?: string;
  schema?: 'EventGridSchema' | 'CloudEventSchemaV1_0';
  eventType?: string;
  /** When ARM published the event (default: now); a late delivery keeps its original time. */
  eventTime?: Date;
  /** The api-version of the request that caused it (shown in `data.httpRequest.url` of delete events). */
  apiVersion?: string;
}

type Verb = 'write' | 'delete';

function typeOf(resourceId: string): string {
  const m = /\/providers\/([^/]+)\/([^/]+)\/[^/]+$/i.exec(resourceId);
  return m ? `${m[1]}/${m[2]}` : 'Microsoft.Resources/unknown';
}

function sample(verb: Verb, schema: NonNullable<EventInput['schema']>): Record<string, any> {
  const envelope = schema === 'EventGridSchema' ? 'eventgrid' : 'cloudevents';
  return JSON.parse(readFileSync(join(SAMPLES, `resource-${verb}-success.${envelope}.json`), 'utf8'));
}

/**
 * Fills a sample with one resource's values: ids in `/resourcegroups/` lower case as real events have
 * them (the write sample's subject shows it), realistic claims, a fresh id and correlation id.
 */
function buildEvent(verb: Verb, input: EventInput): Record<string, any> {
  const schema = input.schema ?? 'EventGridSchema';
  const event = sample(verb, schema);
  const lowered = input.resourceId.replace(/\/resourceGroups\//i, '/resourcegroups/');
  const sub = /\/subscriptions\/([^/]+)/i.exec(input.resourceId)?.[1] ?? '';
  const operationName = input.operationName ?? `${typeOf(input.resourceId)}/${verb}`;
  const time = (input.eventTime ?? new Date()).toISOString();
  event.id = randomUUID();
  event.subject = lowered;
  if (schema === 'EventGridSchema') {
    event.topic = `/subscriptions/${sub}`;
    event.eventTime = time;
    if (input.eventType) event.eventType = input.eventType;
  } else {
    event.source = `/subscriptions/${sub}`;
    event.time = time;
    if (input.eventType) event.type = input.eventType;
  }
  const data = event.data;
  data.resourceUri = lowered;
  data.operationName = operationName;
  data.subscriptionId = sub;
  data.correlationId = randomUUID();
  data.resourceProvider = operationName.split('/')[0];
  data.authorization.scope = lowered;
  data.authorization.action = operationName;
  data.claims[OBJECT_ID_CLAIM] = input.callerObjectId ?? randomUUID();
  data.claims.appid = input.callerAppId ?? '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
  if (data.httpRequest) {
    data.httpRequest.clientRequestId = randomUUID();
    data.httpRequest.url = `https://management.azure.com${input.resourceId}${input.apiVersion ? `?api-version=${input.apiVersion}` : ''}`;
  }
  return event;
}

/** A Microsoft.Resources.ResourceWriteSuccess event as Event Grid delivers it, built from the official sample. */
export function resourceWriteEvent(input: EventInput): Record<string, any> {
  return buildEvent('write', input);
}

/**
 * A Microsoft.Resources.ResourceDeleteSuccess event as Event Grid delivers it, built from the official
 * sample (examples/{event-grid-schema,cloud-events-schema}/resource_delete_success.json): operation
 * `{type}/delete`, `data.httpRequest.method` DELETE with the resource's URL.
 */
export function resourceDeleteEvent(input: EventInput): Record<string, any> {
  return buildEvent('delete', input);
}
