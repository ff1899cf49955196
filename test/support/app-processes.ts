import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/** What an app process needs: its app settings, the rules, the emulator's CA and token endpoint. */
export interface AppProcessConfig {
  settings: Record<string, string>;
  rulesYaml: string;
  ca: string;
  /** Process environment (the managed-identity endpoint the credential reads). */
  environment: Record<string, string>;
  /** host.json's queue settings; without them the process runs no queue trigger. */
  queue?: {
    batchSize: number;
    newBatchThreshold: number;
    maxDequeueCount: number;
    visibilityTimeoutSeconds: number;
    maxPollingIntervalMs: number;
  };
}

export type ToApp = { kind: 'deliver'; id: string; event: unknown } | { kind: 'heap'; id: string } | { kind: 'stop' };
export type FromApp =
  | { kind: 'ready' }
  | { kind: 'stopped' }
  | { kind: 'delivered'; id: string; ms: number; error?: string }
  | { kind: 'heap'; id: string; usedBytes: number }
  | {
      kind: 'outcome';
      resourceId: string;
      status: string;
      reason?: string;
      trigger: string;
      at: number;
      errors?: string[];
      retryAfterMs?: number;
    }
  | { kind: 'ignored'; resourceId: string; reason: string; at: number }
  | { kind: 'arm'; method: string; status: number; at: number }
  | { kind: 'wait'; ms: number }
  | { kind: 'queue-failure'; at: number }
  | { kind: 'poisoned'; at: number };

export interface AppProcess {
  readonly index: number;
  readonly messages: FromApp[];
  /** Delivers one event; resolves with the handler's error text (undefined: acknowledged) or 'timeout'. */
  deliver(event: unknown, timeoutMs: number): Promise<string | undefined>;
  /** The process's used heap after a full garbage collection, in bytes. */
  heapUsed(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts one app instance in its own Node process (test/support/app-process.ts). */
export async function startAppProcess(index: number, config: AppProcessConfig): Promise<AppProcess> {
  const child: ChildProcess = fork(join(__dirname, 'app-process.ts'), [], {
    // --expose-gc: heapUsed() collects first, so it measures what is kept, not what is not collected yet.
    execArgv: ['--expose-gc', '--require', join(__dirname, 'exit-with-parent.cjs'), '--import', 'tsx'],
    env: { ...process.env, APP_PROCESS_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const messages: FromApp[] = [];
  const pending = new Map<string, (error: string | undefined) => void>();
  const heaps = new Map<string, (usedBytes: number) => void>();
  let onReady!: () => void;
  let onStopped!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const stopped = new Promise<void>((r) => (onStopped = r));
  child.on('message', (m: FromApp) => {
    if (m.kind === 'ready') return onReady();
    if (m.kind === 'stopped') return onStopped();
    if (m.kind === 'heap') {
      heaps.get(m.id)?.(m.usedBytes);
      heaps.delete(m.id);
      return;
    }
    if (m.kind === 'delivered') {
      pending.get(m.id)?.(m.error);
      pending.delete(m.id);
    }
    messages.push(m);
  });
  child.on('exit', () => onStopped());
  const failed = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`app process ${index} exited (${code}) before it was ready`))),
  );
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  return {
    index,
    messages,
    deliver(event, timeoutMs) {
      const id = randomUUID();
      return new Promise((resolve) => {
        // Event Grid stops waiting after its delivery timeout; the invocation itself runs on.
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve('timeout');
        }, timeoutMs);
        pending.set(id, (error) => {
          clearTimeout(timer);
          resolve(error);
        });
        if (!child.connected) return resolve('instance stopped');
        child.send({ kind: 'deliver', id, event } satisfies ToApp, (e) => {
          if (e) resolve('instance stopped');
        });
      });
    },
    heapUsed() {
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`app process ${index} has stopped`));
        heaps.set(id, resolve);
        child.send({ kind: 'heap', id } satisfies ToApp);
      });
    },
    async stop() {
      if (child.connected) child.send({ kind: 'stop' } satisfies ToApp);
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 60_000))]);
      if (child.exitCode === null) child.kill();
    },
  };
}
