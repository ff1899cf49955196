import { QueueServiceClient } from '@azure/storage-queue';
import {
  type RemediationMessage,
  type RemediationQueuePort,
  type SendOptions,
  StorageRemediationQueue,
} from '../../src/sweep/remediation-queue';

/**
 * The app's own Storage queue port (Azurite), keeping a copy of what the app sent: a test can then
 * deliver a hand-off before its visibility delay has passed, or replay it as an attacker would.
 */
export class RecordingQueue implements RemediationQueuePort {
  readonly sent: RemediationMessage[] = [];
  private readonly inner: StorageRemediationQueue;

  constructor(connectionString: string, queueName: string) {
    this.inner = new StorageRemediationQueue(QueueServiceClient.fromConnectionString(connectionString).getQueueClient(queueName));
  }

  get name(): string {
    return this.inner.name;
  }

  async send(message: RemediationMessage, options?: SendOptions): Promise<void> {
    await this.inner.send(message, options);
    this.sent.push(structuredClone(message));
  }
}
