// The test's side: starts the app in a child process over our `@azure/functions-core` stand-in
// (app-process.ts), and asks it for invocations by function name, filling in what the host adds to
// every InvocationRequest (invocation id, function id, trace context). Messages cross Node's IPC
// channel with the structured clone ("advanced") serialisation, so bytes stay bytes.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ToApp } from './app-process';
import type { Invocation } from './invoke-function';
import type { FunctionMetadata, InvocationInput, RpcLog } from './rpc';

export interface AppHostOptions {
  /** The function app directory: host.json, and package.json whose "main" is the entry point. */
  appDir: string;
  /** App settings, which the host gives the worker as environment variables. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

interface Loaded {
  programmingModel?: { name: string; version: string };
  functions: FunctionMetadata[];
  hooks: string[];
  capabilities: Record<string, string>;
  systemLogs: RpcLog[];
}

type FromApp =
  | ({ kind: 'loaded' } & Loaded)
  | { kind: 'load-failed'; message: string }
  | { kind: 'invoked'; id: number; invocation: Invocation };

export class AppHost {
  /** The child's stdout and stderr, for assertions that nothing leaked there and for diagnostics. */
  output = '';
  /** Every invocation's logs, in order. */
  readonly logs: RpcLog[] = [];
  private loaded?: Loaded;
  private readonly pending = new Map<number, (invocation: Invocation) => void>();
  private nextId = 0;
  private exited?: string;
  /** Resolves with the reason when the child exits. */
  private readonly gone: Promise<string>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly timeoutMs: number,
  ) {
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    child.on('message', (message: FromApp) => {
      if (message.kind !== 'invoked') return;
      this.logs.push(...message.invocation.logs);
      this.pending.get(message.id)?.(message.invocation);
      this.pending.delete(message.id);
    });
    this.gone = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve((this.exited = `the app process exited (code ${code}, signal ${signal})`))),
    );
  }

  static async start(options: AppHostOptions): Promise<AppHost> {
    // tsx compiles app-process.ts and its imports only (a namespaced registration): the app's own
    // JavaScript loads through Node's plain loader, as in the worker.
    const tsx = JSON.stringify(require.resolve('tsx/cjs/api'));
    const boot = `require(${tsx}).require(${JSON.stringify(join(__dirname, 'app-process.ts'))}, ${JSON.stringify(__filename)})`;
    const child = spawn(process.execPath, ['-e', boot, options.appDir], {
      cwd: options.appDir,
      env: { PATH: process.env.PATH, FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsScriptRoot: options.appDir, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const host = new AppHost(child, options.timeoutMs ?? 30_000);
    const first = await host.within('the app to load', new Promise<FromApp>((resolve) => child.once('message', resolve)));
    if (first.kind !== 'loaded') {
      await host.close();
      throw new Error(`the app failed to load: ${first.kind === 'load-failed' ? first.message : first.kind}\n${host.output}`);
    }
    host.loaded = first;
    return host;
  }

  private get app(): Loaded {
    if (!this.loaded) throw new Error('the app has not loaded');
    return this.loaded;
  }

  /** The programming model the app installed (`setProgrammingModel`), if any. */
  get programmingModel() {
    return this.app.programmingModel;
  }

  /** Every function the app registered, in registration order. */
  get functions(): FunctionMetadata[] {
    return this.app.functions;
  }

  get hooks(): string[] {
    return this.app.hooks;
  }

  /** What the programming model added to the worker's capabilities. */
  get capabilities(): Record<string, string> {
    return this.app.capabilities;
  }

  /** The library's logs outside any invocation (at start-up). */
  get systemLogs(): RpcLog[] {
    return this.app.systemLogs;
  }

  /** The metadata of one registered function; throws when the app did not register it. */
  fn(name: string): FunctionMetadata {
    const found = this.app.functions.find((f) => f.name === name);
    if (!found) throw new Error(`the app registered no function ${name}`);
    return found;
  }

  /** One InvocationRequest for the function; resolves with the InvocationResponse and its logs. */
  invoke(functionName: string, input: InvocationInput): Promise<Invocation> {
    const id = this.nextId++;
    const message: ToApp = {
      kind: 'invoke',
      id,
      request: {
        invocationId: randomUUID(),
        functionId: functionName,
        inputData: input.inputData,
        triggerMetadata: input.triggerMetadata ?? {},
        // W3C traceparent, as the host fills RpcTraceContext.trace_parent from its Activity.
        traceContext: {
          traceParent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
          traceState: '',
          attributes: {},
        },
      },
    };
    const answered = new Promise<Invocation>((resolve) => this.pending.set(id, resolve));
    this.child.send(message);
    return this.within(`the invocation of ${functionName}`, answered);
  }

  private async within<T>(what: string, promise: Promise<T>): Promise<T> {
    let timer!: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; ${this.exited ?? ''}\n${this.output}`)), this.timeoutMs);
    });
    const exited = this.gone.then((why) => Promise.reject(new Error(`${why} waiting for ${what}\n${this.output}`)));
    try {
      return await Promise.race([promise, timeout, exited]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    // The app process exits when its IPC channel closes (app-process.ts).
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.gone;
    clearTimeout(timer);
  }
}
