import type { TokenCredential } from '@azure/core-auth';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseArmId } from '../arm/resource-id';
import { AutopilotError, InvalidResourceIdError, printable, truncate } from '../errors';
import type { SweepStorage } from '../settings/settings';
import type { ComplianceProblem } from './compliance';

/** A stored hand-off's id: 128 random bits in hex (src/ledger/hand-offs.ts makes them). */
const HAND_OFF_ID_PATTERN = '^[0-9a-f]{32}$';
/** Fields of earlier versions' messages: read, never trusted (see RemediationMessageSchema). */
const UNTRUSTED_FIELDS = ['remediationId', 'startedAt', 'eventId', 'eventTime', 'resume'] as const;

/**
 * One resource to fix, as it travels on the remediation queue: put there by a sweep (drift found), or
 * by a trigger handing off the rest of a remediation it could not finish within its delivery.
 *
 * Whoever can write to the queue controls every field, so a message carries nothing the app acts on
 * but the resource to look at: a hand-off's state (its remediation id, start, event, what was done and
 * the hand-off bounds) stays in the ledger's table, and the message names it by `handOff`, a random
 * id the queue trigger checks against that table (src/ledger/hand-offs.ts). The rest is for logs.
 */
export const RemediationMessageSchema = Type.Object(
  {
    version: Type.Literal(1),
    resourceId: Type.String({ minLength: 1, maxLength: 2048 }),
    /** Ties the queue trigger's log lines to the sweep or event that queued the resource. */
    correlationId: Type.Optional(Type.String({ maxLength: 200 })),
    sweepId: Type.Optional(Type.String({ maxLength: 200 })),
    rule: Type.Optional(Type.String({ maxLength: 200 })),
    problems: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })),
    /** The id of a hand-off the app stored (hand-offs.ts): the only way a message carries a remediation on. */
    handOff: Type.Optional(Type.String({ pattern: HAND_OFF_ID_PATTERN })),
    // Earlier versions carried the hand-off's state in the message itself. A message queued by one is
    // still read (so an upgrade drops no work), but these fields are never trusted: the resource is
    // looked at afresh, as for a sweep's finding.
    ...Object.fromEntries(UNTRUSTED_FIELDS.map((f) => [f, Type.Optional(Type.Unknown())])),
  },
  { additionalProperties: false },
);

export interface RemediationMessage {
  version: 1;
  resourceId: string;
  correlationId: string;
  sweepId: string;
  rule: string;
  problems: ComplianceProblem[];
  /** A hand-off stored in the ledger's table, which the queue trigger carries on once it checked it. */
  handOff?: string;
}

/** A message as read: its fields, and the fields of earlier versions it carried (ignored). */
export interface ReadRemediationMessage {
  message: RemediationMessage;
  ignored: string[];
}

export interface SendOptions {
  /** Seconds before the message becomes visible to the queue trigger (Storage allows up to 7 days). */
  visibilityDelaySeconds?: number;
}

/** Storage queues take whole seconds, at most 7 days. */
const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600;
/** A Storage queue message lives 7 days unless told otherwise (Put Message, `messagettl`). */
const MESSAGE_TTL_MS = 7 * 24 * 3600 * 1000;

/** How long a stored hand-off stays current: its message's delay plus the message's own lifetime. */
export function handOffTtlMs(visibilityDelayMs: number): number {
  return visibilityDelayMs + MESSAGE_TTL_MS;
}

export class MalformedRemediationMessageError extends AutopilotError {
  constructor(detail: string) {
    super('MalformedRemediationMessage', detail);
  }
}

/** Accepts the host's decoded JSON object, a JSON string, or base64 of either. */
export function parseRemediationMessage(raw: unknown): ReadRemediationMessage {
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
  if (!Value.Check(RemediationMessageSchema, value)) {
    const first = Value.Errors(RemediationMessageSchema, value).First();
    const where = first?.path ? `'${first.path.slice(1).replaceAll('/', '.')}'` : 'the message';
    throw new MalformedRemediationMessageError(
      `${truncate(printable(where), 100)}: ${first?.message ?? 'not a version-1 remediation message'}`,
    );
  }
  const m = value as Static<typeof RemediationMessageSchema>;
  // Anyone who can write to the queue can put any id here: it must be a canonical workload id.
  const id = parseArmId(m.resourceId);
  if (id.kind !== 'resource') throw new InvalidResourceIdError(m.resourceId, `it is a ${id.kind}, not a resource`);
  return {
    message: {
      version: 1,
      resourceId: m.resourceId,
      correlationId: m.correlationId ?? '',
      sweepId: m.sweepId ?? '',
      rule: m.rule ?? '',
      problems: (m.problems ?? []) as ComplianceProblem[],
      ...(m.handOff !== undefined && { handOff: m.handOff }),
    },
    ignored: UNTRUSTED_FIELDS.filter((f) => (m as Record<string, unknown>)[f] !== undefined),
  };
}

/** Where the sweep and the hand-offs put work for the queue trigger. */
export interface RemediationQueuePort {
  readonly name: string;
  send(message: RemediationMessage, options?: SendOptions): Promise<void>;
}

/** The message that carries on a stored hand-off: the resource and the hand-off's id; the state stays in the table. */
export function handOffMessage(
  resourceId: string,
  handOffId: string,
  about: { correlationId: string; sweepId?: string; rule?: string },
): RemediationMessage {
  return {
    version: 1,
    resourceId,
    correlationId: about.correlationId,
    sweepId: about.sweepId ?? '',
    rule: about.rule ?? '',
    problems: [],
    handOff: handOffId,
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
