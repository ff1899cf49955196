/**
 * One app instance in a process of its own, as a Functions host would run it: the Event Grid trigger
 * (deliveries come from the parent over IPC, one invocation each, with `@azure/functions`'
 * InvocationContext) and, when the app has a queue, the queue trigger polling the remediation queue the
 * way the host's queue listener does (batchSize, newBatchThreshold, backoff from 100 ms to
 * maxPollingInterval while the queue is empty, visibilityTimeout and poison queue on failures). Several
 * of these share one principal against one emulator: they share no memory, only what ARM tells them.
 * Started by `startAppProcess` (app-processes.ts); preloads exit-with-parent.cjs.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { ManagedIdentityCredential } from '@azure/identity';
import { QueueServiceClient } from '@azure/storage-queue';
import { createAutopilot } from '../../src/app/composition';
import { parseRulesText } from '../../src/config';
import { triggerNamed } from '../../src/functions/triggers';
import { readSettings } from '../../src/settings/settings';
import type { AppProcessConfig, FromApp, ToApp } from './app-processes';

const config = JSON.parse(process.env.APP_PROCESS_CONFIG ?? '{}') as AppProcessConfig;
Object.assign(process.env, config.environment);
const send = (message: FromApp) => process.send?.(message);

const app = createAutopilot(readSettings({ ...config.settings }), {
  rules: parseRulesText(config.rulesYaml, 'app-process-rules.yaml'),
  ca: config.ca,
  credential: new ManagedIdentityCredential(),
  gateListener: {
    armCall: (method, status) => send({ kind: 'arm', method, status, at: Date.now() }),
    throttleWait: (ms) => send({ kind: 'wait', ms }),
  },
});

function context(functionName: string, triggerMetadata?: Record<string, unknown>): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    triggerMetadata,
    logHandler: (_level, ...args) => {
      for (const a of args) {
        try {
          const record = JSON.parse(String(a));
          if (record.event === 'remediation.outcome') {
            send({
              kind: 'outcome',
              resourceId: record.resourceId,
              status: record.status,
              reason: record.deferral?.reason,
              retryAfterMs: record.deferral ? record.deferral.retryAfterSeconds * 1000 : undefined,
              trigger: record.trigger,
              at: Date.now(),
              errors: record.errors?.map((e: { code: string }) => e.code),
            });
          } else if (record.event === 'event.ignored') {
            send({ kind: 'ignored', resourceId: record.resourceId, reason: record.reason, at: Date.now() });
          }
        } catch {
          // Not a JSON record.
        }
      }
    },
  });
}

const eventGrid = triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler;
const queueTrigger = triggerNamed('storageQueue', 'remediationQueue', () => app).handler;
let stopping = false;

process.on('message', (message: ToApp) => {
  if (message.kind === 'deliver') {
    const started = Date.now();
    eventGrid(message.event, context('resourceWriteSuccess')).then(
      () => send({ kind: 'delivered', id: message.id, ms: Date.now() - started }),
      (e) => send({ kind: 'delivered', id: message.id, ms: Date.now() - started, error: e instanceof Error ? e.message : String(e) }),
    );
  } else if (message.kind === 'heap') {
    (globalThis as { gc?: () => void }).gc?.();
    send({ kind: 'heap', id: message.id, usedBytes: process.memoryUsage().heapUsed });
  } else if (message.kind === 'stop') {
    stopping = true;
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The host's queue listener, as far as the app can tell it apart (see queue-host.ts for the single-process one). */
async function pollQueue(): Promise<void> {
  const q = config.queue!;
  const service = QueueServiceClient.fromConnectionString(config.settings.AzureWebJobsStorage!);
  const queue = service.getQueueClient(app.settings.sweep.queueName);
  const poison = service.getQueueClient(`${app.settings.sweep.queueName}-poison`);
  await queue.createIfNotExists();
  const inFlight = new Set<Promise<void>>();
  let delay = 100;
  while (!stopping) {
    if (inFlight.size > q.newBatchThreshold) {
      await Promise.race(inFlight);
      continue;
    }
    const received = await queue
      .receiveMessages({ numberOfMessages: q.batchSize, visibilityTimeout: q.visibilityTimeoutSeconds })
      .catch(() => undefined);
    const items = received?.receivedMessageItems ?? [];
    for (const m of items) {
      const p: Promise<void> = (async () => {
        let payload: unknown = m.messageText;
        try {
          payload = JSON.parse(m.messageText);
        } catch {
          // Not JSON: the host passes the string.
        }
        try {
          await queueTrigger(payload, context('remediationQueue', { id: m.messageId, dequeueCount: m.dequeueCount }));
          await queue.deleteMessage(m.messageId, m.popReceipt);
        } catch {
          send({ kind: 'queue-failure', at: Date.now() });
          if (m.dequeueCount >= q.maxDequeueCount) {
            await poison.createIfNotExists();
            await poison.sendMessage(m.messageText);
            await queue.deleteMessage(m.messageId, m.popReceipt);
            send({ kind: 'poisoned', at: Date.now() });
          } else {
            await queue.updateMessage(m.messageId, m.popReceipt, undefined, q.visibilityTimeoutSeconds).catch(() => undefined);
          }
        }
      })().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (items.length > 0) {
      delay = 100;
      continue;
    }
    // An empty queue: the listener backs off, doubling (randomised by 20 %) up to maxPollingInterval.
    await sleep(delay * (0.8 + Math.random() * 0.4));
    delay = Math.min(q.maxPollingIntervalMs, delay * 2);
  }
  await Promise.all(inFlight);
}

(async () => {
  await app.self();
  send({ kind: 'ready' });
  if (config.queue) await pollQueue();
  else while (!stopping) await sleep(100);
  send({ kind: 'stopped' });
  setTimeout(() => process.exit(0), 50);
})().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
