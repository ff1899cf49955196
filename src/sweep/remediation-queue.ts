import type { TokenCredential } from '@azure/core-auth';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { SweepStorage } from '../settings/settings';
import { parseArmId } from '../arm/resource-id';
import { AutopilotError, InvalidResourceIdError } from '../errors';
import type { ComplianceProblem } from './compliance';

/** One non-compliant resource to fix, as it travels on the remediation queue. */
export interface RemediationMessage {
  version: 1;
  resourceId: string;
  /** Ties the queue trigger's outcome to the sweep that found the drift. */
  correlationId: string;
  sweepId: string;
  rule: string;
  problems: ComplianceProblem[];
}

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
  };
}

/** Where the sweep puts work for the queue trigger. */
export interface RemediationQueuePort {
  readonly name: string;
  send(message: RemediationMessage): Promise<void>;
}

/** The Storage queue the queue trigger listens on (`AUTOPILOT_REMEDIATION_QUEUE`). */
export class StorageRemediationQueue implements RemediationQueuePort {
  private created?: Promise<unknown>;

  constructor(readonly client: QueueClient) {}

  get name(): string {
    return this.client.name;
  }

  async send(message: RemediationMessage): Promise<void> {
    this.created ??= this.client.createIfNotExists().catch((e) => {
      this.created = undefined;
      throw e;
    });
    await this.created;
    // Plain JSON: host.json sets `messageEncoding: none`, so the trigger receives it as sent.
    await this.client.sendMessage(JSON.stringify(message));
  }
}

/** A queue in memory, for the CLI's report-only runs and tests that do not need Storage. */
export class InMemoryRemediationQueue implements RemediationQueuePort {
  readonly messages: RemediationMessage[] = [];
  constructor(readonly name = 'remediations') {}
  async send(message: RemediationMessage): Promise<void> {
    this.messages.push(message);
  }
}

export function remediationQueueClient(storage: SweepStorage, queueName: string, credential: TokenCredential): QueueClient | undefined {
  if (storage.kind === 'connection-string') return QueueServiceClient.fromConnectionString(storage.connectionString).getQueueClient(queueName);
  if (storage.kind === 'identity' && storage.queueServiceUrl) return new QueueServiceClient(storage.queueServiceUrl, credential).getQueueClient(queueName);
  return undefined;
}
