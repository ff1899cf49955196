import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvocationContext } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import type { CapturedLog } from './app-fixture';

/** host.json's `extensions.queues`, the settings the emulated host honours. */
export interface QueueHostSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  /** Seconds a failed message stays invisible before its next attempt. */
  visibilityTimeoutSeconds: number;
}

export function hostJsonQueueSettings(): QueueHostSettings & { messageEncoding: string } {
  const host = JSON.parse(readFileSync(join(__dirname, '..', '..', 'host.json'), 'utf8'));
  const q = host.extensions.queues;
  const [h, m, s] = String(q.visibilityTimeout).split(':').map(Number) as [number, number, number];
  return {
    batchSize: q.batchSize,
    newBatchThreshold: q.newBatchThreshold,
    maxDequeueCount: q.maxDequeueCount,
    visibilityTimeoutSeconds: h * 3600 + m * 60 + s,
    messageEncoding: q.messageEncoding,
  };
}

export interface PoisonedMessage {
  messageText: string;
  dequeueCount: number;
  /** The error of the last attempt (what the host logs when it moves the message). */
  reason: string;
}

export interface QueueRun {
  invocations: number;
  succeeded: number;
  failedAttempts: number;
  poisoned: PoisonedMessage[];
  /** Most messages handled at the same time. */
  peakConcurrency: number;
  logs: CapturedLog[];
}

type Handler = (message: unknown, context: InvocationContext) => Promise<void>;

/**
 * Delivers queue messages to a handler the way the Functions host's queue trigger does, against a
 * real queue (Azurite): dequeues up to batchSize, runs them concurrently (fetching more when in-flight
 * work drops to newBatchThreshold), deletes a message when the handler returns, makes it visible
 * again after visibilityTimeout when it throws, and once dequeueCount reaches maxDequeueCount moves
 * its text to `<queue>-poison`. With `messageEncoding: none` the handler gets the JSON as an object.
 */
export async function runQueueHost(
  queue: QueueClient,
  poison: QueueClient,
  handler: Handler,
  settings: QueueHostSettings,
  options: { functionName?: string; timeoutMs?: number } = {},
): Promise<QueueRun> {
  const run: QueueRun = { invocations: 0, succeeded: 0, failedAttempts: 0, poisoned: [], peakConcurrency: 0, logs: [] };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const inFlight = new Set<Promise<void>>();
  const lastError = new Map<string, string>();

  const deliver = async (m: {
    messageId: string;
    popReceipt: string;
    messageText: string;
    dequeueCount: number;
    insertedOn: Date;
    expiresOn: Date;
    nextVisibleOn: Date;
  }) => {
    run.invocations++;
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: options.functionName ?? 'remediationQueue',
      logHandler: (level, ...args) => {
        for (const a of args) {
          try {
            run.logs.push({ level, record: JSON.parse(String(a)) });
          } catch {
            run.logs.push({ level, record: { raw: String(a) } });
          }
        }
      },
      triggerMetadata: {
        id: m.messageId,
        dequeueCount: m.dequeueCount,
        popReceipt: m.popReceipt,
        insertionTime: m.insertedOn,
        expirationTime: m.expiresOn,
        nextVisibleTime: m.nextVisibleOn,
      },
    });
    let payload: unknown = m.messageText;
    try {
      payload = JSON.parse(m.messageText);
    } catch {
      // Not JSON: the host passes the string.
    }
    try {
      await handler(payload, context);
      run.succeeded++;
      await queue.deleteMessage(m.messageId, m.popReceipt);
    } catch (e) {
      run.failedAttempts++;
      const reason = e instanceof Error ? e.message : String(e);
      lastError.set(m.messageId, reason);
      if (m.dequeueCount >= settings.maxDequeueCount) {
        await poison.createIfNotExists();
        await poison.sendMessage(m.messageText);
        await queue.deleteMessage(m.messageId, m.popReceipt);
        run.poisoned.push({ messageText: m.messageText, dequeueCount: m.dequeueCount, reason });
      } else {
        await queue.updateMessage(m.messageId, m.popReceipt, undefined, settings.visibilityTimeoutSeconds);
      }
    }
  };

  for (;;) {
    if (Date.now() > deadline) throw new Error(`queue host: messages still pending after ${options.timeoutMs ?? 30_000} ms`);
    if (inFlight.size <= settings.newBatchThreshold) {
      const received = await queue.receiveMessages({
        numberOfMessages: settings.batchSize,
        visibilityTimeout: Math.max(30, settings.visibilityTimeoutSeconds),
      });
      for (const m of received.receivedMessageItems) {
        const p: Promise<void> = deliver(m).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      run.peakConcurrency = Math.max(run.peakConcurrency, inFlight.size);
      if (received.receivedMessageItems.length > 0) continue;
    }
    if (inFlight.size > 0) {
      await Promise.race(inFlight);
      continue;
    }
    const props = await queue.getProperties();
    if ((props.approximateMessagesCount ?? 0) === 0) return run;
    // Messages waiting out their visibility timeout.
    await new Promise((r) => setTimeout(r, 100));
  }
}
