import type { TokenCredential } from '@azure/core-auth';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { parseArmId } from '../arm/resource-id';
import type { Deferral, PendingWrite, ResumePoint } from '../engine/hand-off';
import type { ActionRecord, RemediationOutcome } from '../engine/types';
import { AutopilotError, InvalidResourceIdError } from '../errors';
import type { SweepStorage } from '../settings/settings';
import type { ComplianceProblem } from './compliance';

/**
 * One resource to fix, as it travels on the remediation queue: put there by a sweep (drift found), or
 * by a trigger handing off the rest of a remediation it could not finish within its delivery. Version
 * 1 throughout: the hand-off fields are optional additions, and a reader that does not know them
 * still remediates the resource from scratch.
 */
export interface RemediationMessage {
  version: 1;
  resourceId: string;
  /** Ties the queue trigger's outcome to the sweep or event that started the remediation. */
  correlationId: string;
  sweepId: string;
  rule: string;
  problems: ComplianceProblem[];
  /** The remediation's ledger id: every delivery of it updates one ledger row. */
  remediationId?: string;
  /** When the remediation began (ISO), for its ledger row and event-to-done time. */
  startedAt?: string;
  /** The Event Grid event it came from, if any. */
  eventId?: string;
  /** That event's eventTime (ISO), so event-to-done is measured from the event across hand-offs. */
  eventTime?: string;
  /** Where a handed-off remediation carries on. */
  resume?: ResumePoint;
}

export interface SendOptions {
  /** Seconds before the message becomes visible to the queue trigger (Storage allows up to 7 days). */
  visibilityDelaySeconds?: number;
}

/** Storage queues take whole seconds, at most 7 days. */
const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600;

export class MalformedRemediationMessageError extends AutopilotError {
  constructor(detail: string) {
    super('MalformedRemediationMessage', detail);
  }
}

/** Accepts the host's decoded JSON object, a JSON string, or base64 of either. */
export function parseRemediationMessage(raw: unknown): RemediationMessage {
  let value = raw;
  if (typeof value === 'string') {
    const text = value.trim();
    const json = text.startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8');
    try {
      value = JSON.parse(json);
    } catch {
      throw new MalformedRemediationMessageError('the message is not JSON');
    }
  }
  const m = value as Partial<RemediationMessage> | null;
  if (!m || typeof m !== 'object' || m.version !== 1 || typeof m.resourceId !== 'string') {
    throw new MalformedRemediationMessageError('the message is not a version-1 remediation message with a resource id');
  }
  // Anyone who can write to the queue can put any id here: it must be a canonical workload id.
  const id = parseArmId(m.resourceId);
  if (id.kind !== 'resource') throw new InvalidResourceIdError(m.resourceId, `it is a ${id.kind}, not a resource`);
  return {
    version: 1,
    resourceId: m.resourceId,
    correlationId: typeof m.correlationId === 'string' ? m.correlationId : '',
    sweepId: typeof m.sweepId === 'string' ? m.sweepId : '',
    rule: typeof m.rule === 'string' ? m.rule : '',
    problems: Array.isArray(m.problems) ? (m.problems as ComplianceProblem[]) : [],
    remediationId: optionalString(m.remediationId, 'remediationId', 100),
    startedAt: optionalTime(m.startedAt, 'startedAt'),
    eventId: optionalString(m.eventId, 'eventId', 200),
    eventTime: optionalTime(m.eventTime, 'eventTime'),
    resume: m.resume === undefined ? undefined : parseResume(m.resume),
  };
}

function optionalString(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new MalformedRemediationMessageError(`'${field}' is not a string of at most ${max} characters`);
  return v;
}

function optionalTime(v: unknown, field: string): string | undefined {
  const text = optionalString(v, field, 40);
  if (text !== undefined && !Number.isFinite(Date.parse(text))) throw new MalformedRemediationMessageError(`'${field}' is not a time`);
  return text;
}

const ACTION_KINDS = new Set([
  'user-assigned-identity-created',
  'user-assigned-identity-reused',
  'identity-written',
  'role-assigned',
  'role-already-assigned',
  // The second grant kind and Dapr components (issue 14): a hand-off after them carries them on.
  'cosmos-role-assigned',
  'cosmos-role-already-assigned',
  'dapr-client-id-written',
]);

/** The hand-off part, checked field by field: it decides what is polled and what the ledger says was done. */
function parseResume(raw: unknown): ResumePoint {
  const r = raw as Partial<Record<keyof ResumePoint, unknown>> | null;
  if (!r || typeof r !== 'object') throw new MalformedRemediationMessageError("'resume' is not an object");
  if (!Number.isInteger(r.attempt) || (r.attempt as number) < 1 || (r.attempt as number) > 10_000)
    throw new MalformedRemediationMessageError("'resume.attempt' is not a positive integer");
  if (
    !Array.isArray(r.actions) ||
    r.actions.length > 100 ||
    !r.actions.every((a) => a && typeof a === 'object' && ACTION_KINDS.has((a as { kind?: unknown }).kind as string))
  ) {
    throw new MalformedRemediationMessageError("'resume.actions' is not a list of actions");
  }
  if (typeof r.principalIsNew !== 'boolean') throw new MalformedRemediationMessageError("'resume.principalIsNew' is not a boolean");
  return {
    attempt: r.attempt as number,
    actions: r.actions as ActionRecord[],
    principalIsNew: r.principalIsNew,
    authorizationFailingSince: optionalTime(r.authorizationFailingSince, 'resume.authorizationFailingSince'),
    operation: r.operation === undefined ? undefined : parseOperation(r.operation),
  };
}

function parseOperation(raw: unknown): PendingWrite {
  const o = raw as Partial<PendingWrite> | null;
  const monitor = o?.monitor as Partial<PendingWrite['monitor']> | undefined;
  if (
    !o ||
    typeof o.resourceId !== 'string' ||
    !o.resourceId.startsWith('/subscriptions/') ||
    typeof o.from !== 'string' ||
    typeof o.to !== 'string' ||
    !monitor ||
    (monitor.style !== 'async-operation' && monitor.style !== 'location') ||
    typeof monitor.url !== 'string' ||
    !/^https:\/\//.test(monitor.url)
  ) {
    throw new MalformedRemediationMessageError("'resume.operation' is not a pending write with an https monitor");
  }
  return { resourceId: o.resourceId, from: o.from, to: o.to, monitor: { style: monitor.style, url: monitor.url } };
}

/** Where the sweep and the hand-offs put work for the queue trigger. */
export interface RemediationQueuePort {
  readonly name: string;
  send(message: RemediationMessage, options?: SendOptions): Promise<void>;
}

/** Where a remediation came from, carried by every hand-off of it. */
export interface RemediationOrigin {
  remediationId: string;
  eventId?: string;
  eventTime?: string;
  sweepId?: string;
  rule?: string;
  problems?: ComplianceProblem[];
}

/** The message that carries on a deferred remediation: same remediation id and start, the resume point. */
export function handOffMessage(outcome: RemediationOutcome & { deferral: Deferral }, origin: RemediationOrigin): RemediationMessage {
  return {
    version: 1,
    resourceId: outcome.resourceId,
    correlationId: outcome.correlationId,
    sweepId: origin.sweepId ?? '',
    rule: origin.rule ?? outcome.rule ?? '',
    problems: origin.problems ?? [],
    remediationId: origin.remediationId,
    startedAt: outcome.startedAt,
    eventId: origin.eventId,
    eventTime: origin.eventTime,
    resume: outcome.deferral.resume,
  };
}

/** A delay in ms as the whole seconds a Storage queue takes (rounded up, so never early). */
export function visibilityDelaySeconds(ms: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(ms / 1000)));
}

/** The Storage queue the queue trigger listens on (`AUTOPILOT_REMEDIATION_QUEUE`). */
export class StorageRemediationQueue implements RemediationQueuePort {
  private created?: Promise<unknown>;

  constructor(readonly client: QueueClient) {}

  get name(): string {
    return this.client.name;
  }

  async send(message: RemediationMessage, options: SendOptions = {}): Promise<void> {
    this.created ??= this.client.createIfNotExists().catch((e) => {
      this.created = undefined;
      throw e;
    });
    await this.created;
    // Plain JSON: host.json sets `messageEncoding: none`, so the trigger receives it as sent.
    const delay = options.visibilityDelaySeconds;
    await this.client.sendMessage(
      JSON.stringify(message),
      delay ? { visibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(delay)) } : {},
    );
  }
}

/** A queue in memory, for the CLI's report-only runs and tests that do not need Storage. */
export class InMemoryRemediationQueue implements RemediationQueuePort {
  readonly messages: RemediationMessage[] = [];
  readonly delays: number[] = [];
  constructor(readonly name = 'remediations') {}
  async send(message: RemediationMessage, options: SendOptions = {}): Promise<void> {
    this.messages.push(message);
    this.delays.push(options.visibilityDelaySeconds ?? 0);
  }
}

export function remediationQueueClient(storage: SweepStorage, queueName: string, credential: TokenCredential): QueueClient | undefined {
  if (storage.kind === 'connection-string')
    return QueueServiceClient.fromConnectionString(storage.connectionString).getQueueClient(queueName);
  if (storage.kind === 'identity' && storage.queueServiceUrl)
    return new QueueServiceClient(storage.queueServiceUrl, credential).getQueueClient(queueName);
  return undefined;
}
