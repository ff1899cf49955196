// Plays the Azure Functions host's side of the host <-> language worker protocol (FunctionRpc.proto,
// vendored in test/functions-host/worker) over real gRPC on 127.0.0.1, against the real Node.js
// worker built from source (build-worker.ts). What the host does, and where it is written:
// - it serves `FunctionRpc.EventStream` and starts the worker process with
//   `--functions-uri --functions-worker-id --functions-request-id --functions-grpc-max-message-length`
//   (worker src/Worker.ts parses exactly these; the host's RpcWorkerConfig / WorkerProcess builds them);
// - the worker opens the stream with `StartStream`; the host answers with `WorkerInitRequest`
//   (hostVersion, capabilities, functionAppDirectory, workerDirectory), then, for worker indexing
//   (worker.config.json "workerIndexing": "true"), `FunctionsMetadataRequest`, then one
//   `FunctionLoadRequest` per function the worker reported (functionId + metadata), then
//   `InvocationRequest`s (Azure/azure-functions-host src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs;
//   the worker's own test/eventHandlers/msg.ts shows the same messages);
// - an invocation carries `inputData` (one ParameterBinding per input binding, the trigger first) and
//   `triggerMetadata`, each value a TypedData made by the host's ToRpc conversion
//   (src/WebJobs.Script.Grpc/Extensions/ScriptInvocationContextExtensions.cs ToRpcInvocationRequest,
//   MessageExtensions/GrpcMessageConversionExtensions.cs ToRpc: JObject -> json, string -> string,
//   byte[] -> bytes, HttpRequest -> RpcHttp).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ensureWorkerBuilt, PROTO_ROOT, WORKER_BUILD } from './build-worker';

/** StatusResult.Status in FunctionRpc.proto. */
export const Status = { Failure: 0, Success: 1, Cancelled: 2 } as const;
/** RpcLog.Level and RpcLog.RpcLogCategory in FunctionRpc.proto. */
export const LogLevel = { Trace: 0, Debug: 1, Information: 2, Warning: 3, Error: 4, Critical: 5, None: 6 } as const;
export const LogCategory = { User: 0, System: 1, CustomMetric: 2 } as const;

/** A TypedData value (FunctionRpc.proto `message TypedData`, a oneof). */
export type TypedData = { string?: string; json?: string; bytes?: Buffer; http?: RpcHttp; int?: string; double?: number; [k: string]: unknown };
export interface RpcHttp {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  nullableHeaders?: Record<string, { value: string }>;
  query?: Record<string, string>;
  nullableQuery?: Record<string, { value: string }>;
  params?: Record<string, string>;
  nullableParams?: Record<string, { value: string }>;
  body?: TypedData;
  statusCode?: string;
  [k: string]: unknown;
}
export interface BindingInfo {
  type: string;
  direction: number;
  dataType?: number;
}
export interface FunctionMetadata {
  name: string;
  functionId: string;
  directory?: string;
  scriptFile?: string;
  bindings: Record<string, BindingInfo>;
  /** The JSON the host reads for each binding (function.json's "bindings" entries). */
  rawBindings: string[];
  isProxy?: boolean;
  properties?: Record<string, string>;
  [k: string]: unknown;
}
export interface RpcLog {
  invocationId?: string;
  category?: string;
  level: number;
  message: string;
  logCategory: number;
  exception?: { message?: string };
  [k: string]: unknown;
}
export interface InvocationResponse {
  invocationId: string;
  outputData: { name: string; data?: TypedData }[];
  returnValue?: TypedData;
  result: { status: number; exception?: { message?: string; stackTrace?: string } };
}
export interface Invocation {
  response: InvocationResponse;
  /** RpcLog messages the worker sent for this invocation id, in order. */
  logs: RpcLog[];
}
export interface InvokeInput {
  /** The trigger's binding name and value, then any other input bindings. */
  inputData: { name: string; data: TypedData }[];
  triggerMetadata?: Record<string, TypedData>;
}

// Same loader options as the worker's GrpcClient.ts (objects, defaults, oneofs; camelCase fields).
const packageDefinition = protoLoader.loadSync(join(PROTO_ROOT, 'FunctionRpc.proto'), {
  includeDirs: [PROTO_ROOT],
  longs: String,
  defaults: true,
  oneofs: true,
  objects: true,
});
const rpcPackage = grpc.loadPackageDefinition(packageDefinition) as any;
const FunctionRpcService = rpcPackage.AzureFunctionsRpcMessages.FunctionRpc.service as grpc.ServiceDefinition;

/** The host version the harness announces (a v4 host; the worker only records it). */
export const HOST_VERSION = '4.1037.0.0';

export interface HostOptions {
  /** The function app directory: the folder with host.json and package.json ("main"). */
  appDir: string;
  /** App settings, given to the worker as environment variables as the host does. */
  env?: Record<string, string | undefined>;
  /** Per-step timeout. */
  timeoutMs?: number;
}

type Pending = { match: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class FunctionsHost {
  readonly logs: RpcLog[] = [];
  /** The worker process' stdout/stderr, for assertions that nothing leaked there and for diagnostics. */
  output = '';
  readonly workerId = randomUUID();
  /** Milliseconds from spawning the worker to each protocol step. */
  readonly timings: Record<string, number> = {};
  private server = new grpc.Server();
  private stream?: grpc.ServerDuplexStream<any, any>;
  private child?: ChildProcess;
  private pending: Pending[] = [];
  private streamStarted!: Promise<void>;
  private spawnedAt = 0;
  private exited?: string;

  private constructor(private readonly options: HostOptions) {}

  /** Starts the gRPC server and the worker, and completes StartStream + WorkerInitRequest. */
  static async start(options: HostOptions): Promise<FunctionsHost> {
    const host = new FunctionsHost(options);
    await host.listenAndSpawn();
    return host;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 30_000;
  }

  private async listenAndSpawn(): Promise<void> {
    const workerPath = ensureWorkerBuilt();
    let onStart!: () => void;
    this.streamStarted = new Promise((resolve) => (onStart = resolve));
    this.server.addService(FunctionRpcService, {
      eventStream: (call: grpc.ServerDuplexStream<any, any>) => {
        this.stream = call;
        call.on('data', (message: any) => this.onMessage(message, onStart));
        call.on('error', () => undefined);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const requestId = randomUUID();
    this.spawnedAt = performance.now();
    // The arguments the host passes a v4 Node worker (the worker's Worker.ts reads these four).
    this.child = spawn(
      process.execPath,
      [workerPath, '--functions-uri', `http://127.0.0.1:${port}/`, '--functions-worker-id', this.workerId, '--functions-request-id', requestId, '--functions-grpc-max-message-length', '2147483647'],
      {
        cwd: WORKER_BUILD,
        env: { PATH: process.env.PATH, FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsScriptRoot: this.options.appDir, ...this.options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.child.on('exit', (code, signal) => {
      this.exited = `worker exited (code ${code}, signal ${signal})`;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new Error(`${this.exited}\n${this.output}`));
      }
    });
    await this.withTimeout(this.streamStarted, 'StartStream');
    this.timings.startStream = performance.now() - this.spawnedAt;
    const init = await this.request('workerInitRequest', {
      hostVersion: HOST_VERSION,
      capabilities: {},
      logCategories: {},
      workerDirectory: WORKER_BUILD,
      functionAppDirectory: this.options.appDir,
    }, 'workerInitResponse');
    this.timings.workerInitResponse = performance.now() - this.spawnedAt;
    if (init.result?.status !== Status.Success) throw new Error(`WorkerInitRequest failed: ${JSON.stringify(init.result)}\n${this.output}`);
  }

  private async withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer!: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; ${this.exited ?? ''}\n${this.output}`)), this.timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onMessage(message: any, onStart: () => void): void {
    if (message.startStream) {
      onStart();
      return;
    }
    if (message.rpcLog) this.logs.push(message.rpcLog as RpcLog);
    const index = this.pending.findIndex((p) => p.match(message));
    if (index >= 0) {
      const [p] = this.pending.splice(index, 1);
      clearTimeout(p.timer);
      p.resolve(message);
    }
  }

  private waitFor(match: (m: any) => boolean, what: string): Promise<any> {
    if (this.exited) return Promise.reject(new Error(`${this.exited}\n${this.output}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((p) => p.timer !== timer);
        reject(new Error(`timed out waiting for ${what}\n${this.output}`));
      }, this.timeoutMs);
      this.pending.push({ match, resolve, reject, timer });
    });
  }

  /** Sends one host request and waits for the worker's response of the given kind to that request id. */
  async request(kind: string, payload: Record<string, unknown>, responseKind: string): Promise<any> {
    const requestId = randomUUID();
    const response = this.waitFor((m) => m.requestId === requestId && m[responseKind] !== undefined && m[responseKind] !== null, responseKind);
    this.stream!.write({ requestId, [kind]: payload });
    return (await response)[responseKind];
  }

  /** FunctionsMetadataRequest (worker indexing): what the worker reports the app registered. */
  async functionsMetadata(): Promise<{ useDefaultMetadataIndexing: boolean; functionMetadataResults: FunctionMetadata[]; result: { status: number; exception?: { message?: string } } }> {
    const response = await this.request('functionsMetadataRequest', { functionAppDirectory: this.options.appDir }, 'functionMetadataResponse');
    this.timings.functionMetadataResponse ??= performance.now() - this.spawnedAt;
    return response;
  }

  /** FunctionLoadRequest for each function, as the host does after indexing; returns them by name. */
  async loadFunctions(functions: FunctionMetadata[]): Promise<Map<string, FunctionMetadata>> {
    const loaded = new Map<string, FunctionMetadata>();
    for (const metadata of functions) {
      const response = await this.request('functionLoadRequest', { functionId: metadata.functionId, metadata }, 'functionLoadResponse');
      if (response.result?.status !== Status.Success) throw new Error(`FunctionLoadRequest ${metadata.name} failed: ${JSON.stringify(response.result)}`);
      loaded.set(metadata.name, metadata);
    }
    return loaded;
  }

  /** One InvocationRequest; resolves with the InvocationResponse and the invocation's RpcLogs. */
  async invoke(fn: FunctionMetadata, input: InvokeInput): Promise<Invocation> {
    const invocationId = randomUUID();
    const response = this.waitFor((m) => m.invocationResponse?.invocationId === invocationId, `InvocationResponse of ${fn.name}`);
    this.stream!.write({
      requestId: randomUUID(),
      invocationRequest: {
        functionId: fn.functionId,
        invocationId,
        inputData: input.inputData,
        triggerMetadata: input.triggerMetadata ?? {},
        traceContext: { traceParent: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`, traceState: '', attributes: {} },
      },
    });
    const message = await response;
    // RpcLogs are sent before the response on the same ordered stream (worker InvocationHandler.ts).
    return { response: message.invocationResponse, logs: this.logs.filter((l) => l.invocationId === invocationId) };
  }

  async close(): Promise<void> {
    for (const p of this.pending.splice(0)) clearTimeout(p.timer);
    if (this.child && !this.exited) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      // WorkerTerminate is what the host sends on shutdown (worker capability HandlesWorkerTerminateMessage).
      try {
        this.stream?.write({ requestId: randomUUID(), workerTerminate: { gracePeriod: { seconds: 1 } } });
      } catch {
        /* stream already gone */
      }
      const timer = setTimeout(() => this.child!.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    this.stream?.end();
    this.server.forceShutdown();
  }
}

/** The JSON object the host reads for a binding (the worker's `rawBindings` entry). */
export function rawBindings(fn: FunctionMetadata): Record<string, any>[] {
  return fn.rawBindings.map((b) => JSON.parse(b) as Record<string, any>);
}

/** TypedData.json of a value. */
export function json(value: unknown): TypedData {
  return { json: JSON.stringify(value) };
}
