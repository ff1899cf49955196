import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Verbatim samples from azure-rest-api-specs (Resources.json examples), in both envelopes. */
const SAMPLES = join(__dirname, 'event-samples');
const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export interface EventInput {
  resourceId: string;
  /** Defaults to `{type}/write` of the resource. */
  operationName?: string;
  /** Object id of whoever made the write (default: a person). */
  callerObjectId?: string;
  callerAppId?: string;
  schema?: 'EventGridSchema' | 'CloudEventSchemaV1_0';
  eventType?: string;
}

function typeOf(resourceId: string): string {
  const m = /\/providers\/([^/]+)\/([^/]+)\/[^/]+$/i.exec(resourceId);
  return m ? `${m[1]}/${m[2]}` : 'Microsoft.Resources/unknown';
}

/**
 * A ResourceWriteSuccess event as Event Grid delivers it, built from the official sample: ids in
 * `/resourcegroups/` lower case as real events have them, realistic claims.
 */
export function resourceWriteEvent(input: EventInput): Record<string, any> {
  const schema = input.schema ?? 'EventGridSchema';
  const file = schema === 'EventGridSchema' ? 'resource-write-success.eventgrid.json' : 'resource-write-success.cloudevents.json';
  const event = JSON.parse(readFileSync(join(SAMPLES, file), 'utf8'));
  const lowered = input.resourceId.replace(/\/resourceGroups\//i, '/resourcegroups/');
  const sub = /\/subscriptions\/([^/]+)/i.exec(input.resourceId)?.[1] ?? '';
  const operationName = input.operationName ?? `${typeOf(input.resourceId)}/write`;
  event.id = randomUUID();
  event.subject = lowered;
  if (schema === 'EventGridSchema') {
    event.topic = `/subscriptions/${sub}`;
    event.eventTime = new Date().toISOString();
    if (input.eventType) event.eventType = input.eventType;
  } else {
    event.source = `/subscriptions/${sub}`;
    event.time = new Date().toISOString();
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
  return event;
}
