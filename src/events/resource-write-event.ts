import { canonicalIdProblem, parseArmId, tryParseArmId } from '../arm/resource-id';
import { AutopilotError, isAutopilotError, truncate } from '../errors';

export const RESOURCE_WRITE_SUCCESS = 'Microsoft.Resources.ResourceWriteSuccess';
/**
 * Raised after a resource is deleted (same data shape as a write: Event Grid data-plane spec
 * Microsoft.Resources/stable/2018-01-01/Resources.json `ResourceDeleteSuccessEventData`; operation
 * `<type>/delete`). Only a hint: the clean-up confirms with ARM (404) before removing anything.
 */
export const RESOURCE_DELETE_SUCCESS = 'Microsoft.Resources.ResourceDeleteSuccess';
/** Real ResourceWriteSuccess events are a few KB; anything near Event Grid's 1 MB cap is not one. */
export const MAX_EVENT_BYTES = 64 * 1024;

const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

/** A ResourceWriteSuccess event, from either envelope, reduced to what the product uses. */
export interface ResourceWriteEvent {
  id: string;
  schema: 'EventGridSchema' | 'CloudEventSchemaV1_0';
  eventType: string;
  eventTime?: string;
  resourceId: string;
  operationName: string;
  status?: string;
  /** ARM's correlation id of the write that raised the event. */
  correlationId?: string;
  /** Who made the write: object id and application id from the caller's token claims. */
  callerObjectId?: string;
  callerAppId?: string;
}

export class MalformedEventError extends AutopilotError {
  /** `InvalidResourceId` when the event names a resource by an id that is not canonical. */
  constructor(reason: string, code: 'MalformedEvent' | 'InvalidResourceId' = 'MalformedEvent') {
    super(code, `malformed event: ${reason}`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Accepts the Event Grid schema (`eventType`, `subject`) and CloudEvents 1.0 (`type`, `source`,
 * `specversion`). Anything else is rejected with the reason, before it can reach ARM.
 */
export function parseResourceWriteEvent(input: unknown): ResourceWriteEvent {
  let size: number;
  try {
    size = Buffer.byteLength(typeof input === 'string' ? input : (JSON.stringify(input) ?? ''));
  } catch {
    throw new MalformedEventError('it cannot be serialised as JSON');
  }
  if (size > MAX_EVENT_BYTES) throw new MalformedEventError(`it is ${size} bytes; events over ${MAX_EVENT_BYTES} bytes are refused`);
  let event = input;
  if (typeof input === 'string') {
    try {
      event = JSON.parse(input);
    } catch {
      throw new MalformedEventError('it is not valid JSON');
    }
  }
  if (!isRecord(event)) throw new MalformedEventError('it is not a JSON object');
  const cloud = str(event.specversion) !== undefined;
  const eventType = str(cloud ? event.type : event.eventType);
  if (!eventType) throw new MalformedEventError(`'${cloud ? 'type' : 'eventType'}' is missing`);
  const id = str(event.id);
  if (!id) throw new MalformedEventError("'id' is missing");
  if (!isRecord(event.data)) throw new MalformedEventError("'data' is missing or not an object");
  const data = event.data;
  // A resourceUri that is present but empty or not a string is a bad id, not a missing one.
  const named = 'resourceUri' in data ? data.resourceUri : event.subject;
  if (named === undefined || named === null) throw new MalformedEventError("neither 'data.resourceUri' nor 'subject' names a resource");
  if (typeof named !== 'string') throw new MalformedEventError(`the resource id is a ${typeof named}, not a string`, 'InvalidResourceId');
  const resourceId = named;
  checkEventResourceId(resourceId);
  const operationName = str(data.operationName);
  if (!operationName) throw new MalformedEventError("'data.operationName' is missing");
  const claims = isRecord(data.claims) ? data.claims : {};
  return {
    id,
    schema: cloud ? 'CloudEventSchemaV1_0' : 'EventGridSchema',
    eventType,
    eventTime: str(cloud ? event.time : event.eventTime),
    resourceId,
    operationName,
    status: str(data.status),
    correlationId: str(data.correlationId),
    callerObjectId: str(claims[OBJECT_ID_CLAIM]) ?? str(claims.oid),
    callerAppId: str(claims.appid),
  };
}

/**
 * The whole id must be canonical (no '.', '..', '//', percent-encodings: see canonicalIdProblem);
 * only its part before a second '/providers/' is parsed, because extension resources (role
 * assignments, tags) are legitimate ids that triage ignores. The engine parses workload ids again.
 */
function checkEventResourceId(resourceId: string): void {
  const problem = canonicalIdProblem(resourceId);
  const base = resourceId
    .split(/\/providers\//i)
    .slice(0, 2)
    .join('/providers/');
  try {
    if (problem) parseArmId(resourceId);
    const parsed = parseArmId(base);
    if (!parsed.subscriptionId)
      throw new MalformedEventError(`'${resourceId.slice(0, 120)}' is not inside a subscription`, 'InvalidResourceId');
  } catch (e) {
    if (!(e instanceof MalformedEventError) && isAutopilotError(e) && e.code === 'InvalidResourceId')
      throw new MalformedEventError(e.message, 'InvalidResourceId');
    throw e;
  }
}

export type EventTriage =
  /** `tagsOf`: the event was a tag write on this resource (the Tags API's `tags/default` extension). */
  | { action: 'remediate'; resourceId: string; tagsOf?: boolean }
  | {
      action: 'ignore';
      reason: 'event-type' | 'not-succeeded' | 'own-write' | 'not-a-workload' | 'not-a-write' | 'extension-resource';
      detail: string;
    };

/** Operations that are never workloads: deployments first announce themselves, role assignments are ours. */
const NEVER_WORKLOADS = [/^Microsoft\.Resources\/deployments\//i, /^Microsoft\.Authorization\//i, /^Microsoft\.ManagedIdentity\//i];

/**
 * Decides whether an event is worth a remediation. The loop guard comes first: every identity PATCH
 * and role assignment we make raises an event of its own.
 */
export function triageEvent(event: ResourceWriteEvent, self: { principalId?: string; clientId?: string }): EventTriage {
  if (event.eventType !== RESOURCE_WRITE_SUCCESS) {
    return { action: 'ignore', reason: 'event-type', detail: `event type '${event.eventType}' is not ${RESOURCE_WRITE_SUCCESS}` };
  }
  const same = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();
  if (same(event.callerObjectId, self.principalId) || same(event.callerAppId, self.clientId)) {
    return { action: 'ignore', reason: 'own-write', detail: 'the write was made by identity-autopilot itself' };
  }
  if (event.status && event.status !== 'Succeeded') {
    return { action: 'ignore', reason: 'not-succeeded', detail: `status is '${event.status}'` };
  }
  if (NEVER_WORKLOADS.some((re) => re.test(event.operationName))) {
    return { action: 'ignore', reason: 'not-a-workload', detail: `'${event.operationName}' is not a workload write` };
  }
  if (!/\/write$/i.test(event.operationName)) {
    return { action: 'ignore', reason: 'not-a-write', detail: `'${event.operationName}' is not a write operation` };
  }
  // Tags set after creation through the Tags API (what IaC tools often do) raise
  // `Microsoft.Resources/tags/write` on `<resource id>/providers/Microsoft.Resources/tags/default`, not
  // `<type>/write` (azure-facts "Tag writes"; cloud-custodian#6826). Tags select rules and profiles, so
  // the parent resource is evaluated again; governance then decides whether it is a governed type.
  const tags = TAGS_EXTENSION.exec(event.resourceId);
  if (tags && /^Microsoft\.Resources\/tags\/write$/i.test(event.operationName)) {
    const parent = tryParseArmId(tags[1]);
    if (parent?.kind !== 'resource') {
      return {
        action: 'ignore',
        reason: 'not-a-workload',
        detail: `the tags of a ${parent?.kind ?? 'scope'} were written, not a resource's`,
      };
    }
    return { action: 'remediate', resourceId: parent.id, tagsOf: true };
  }
  // Any other extension resource (diagnostic settings, locks, policy assignments on a resource) is
  // not the workload itself: acknowledged, never remediated, so never a failed remediation.
  if (isExtensionResource(event.resourceId)) {
    return {
      action: 'ignore',
      reason: 'extension-resource',
      detail: `'${truncate(event.operationName, 120)}' writes an extension resource, not a workload`,
    };
  }
  return { action: 'remediate', resourceId: event.resourceId };
}

export type DeleteTriage =
  | { action: 'clean-up'; resourceId: string }
  | { action: 'ignore'; reason: 'event-type' | 'not-succeeded' | 'not-a-workload' | 'not-a-delete' | 'extension-resource'; detail: string };

/**
 * Decides whether a delete event is worth a clean-up. The product's own deletes (role assignments,
 * identities, credentials) raise events too: they are never workloads. A Dapr component delete is a
 * clean-up of its own (the apps it served are planned again).
 */
export function triageDeleteEvent(event: ResourceWriteEvent): DeleteTriage {
  if (event.eventType !== RESOURCE_DELETE_SUCCESS) {
    return { action: 'ignore', reason: 'event-type', detail: `event type '${event.eventType}' is not ${RESOURCE_DELETE_SUCCESS}` };
  }
  if (event.status && event.status !== 'Succeeded')
    return { action: 'ignore', reason: 'not-succeeded', detail: `status is '${event.status}'` };
  if (NEVER_WORKLOADS.some((re) => re.test(event.operationName))) {
    return { action: 'ignore', reason: 'not-a-workload', detail: `'${event.operationName}' is not a workload delete` };
  }
  if (!/\/delete$/i.test(event.operationName)) {
    return { action: 'ignore', reason: 'not-a-delete', detail: `'${truncate(event.operationName, 120)}' is not a delete operation` };
  }
  if (isExtensionResource(event.resourceId)) {
    return {
      action: 'ignore',
      reason: 'extension-resource',
      detail: `'${truncate(event.operationName, 120)}' deletes an extension resource`,
    };
  }
  return { action: 'clean-up', resourceId: event.resourceId };
}

const TAGS_EXTENSION = /^(.*)\/providers\/Microsoft\.Resources\/tags\/default$/i;

/** `{scope}/providers/{ns}/{type}/{name}` where the scope is itself a resource: a second `/providers/` after the resource group. */
function isExtensionResource(resourceId: string): boolean {
  const afterScope = resourceId.replace(/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?/i, '');
  return (afterScope.match(/\/providers\//gi) ?? []).length > 1;
}
