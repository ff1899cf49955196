// Our stand-in for `@azure/functions-core`, the module the Functions Node.js worker provides to the app
// at run time (it is on no registry). @azure/functions 4.x requires it lazily (tryGetCoreApiLazy) and,
// when it is there, leaves "test mode": the first app.* call hands the library's ProgrammingModel to
// `setProgrammingModel`, every app.* call reports the function to `registerFunction`, app.hook.* goes
// to `registerHook`, and the library's own diagnostics go to `log`. This records all of it, so the
// tests see what the host would be told, and keeps the handlers to drive their invocations
// (invoke-function.ts).
import type { FunctionMetadata, InvocationResponse, LogCategory, LogLevel, RpcLog } from './rpc';

/** The part of an invocation the library's InvocationModel reads (CoreInvocationContext). */
export interface CoreInvocationContext {
  invocationId: string;
  request: unknown;
  metadata: FunctionMetadata;
  /** The library warns about logs after the handler returned unless hooks are running. */
  state?: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';
  log(level: LogLevel, category: LogCategory, message: string): void;
}

/** The library's per-invocation converter between the RPC messages and the handler's arguments. */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: Handler): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<Omit<InvocationResponse, 'result'>>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(context: CoreInvocationContext): InvocationModel;
  getCapabilities(workerCapabilities: Record<string, string>): Promise<Record<string, string>>;
}

export type Handler = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  handler: Handler;
}

interface Disposable {
  dispose(): void;
}

export class CoreStandIn {
  programmingModel?: ProgrammingModel;
  /**
   * By function id. With worker indexing the worker takes a function's name as its id, and the host's
   * InvocationRequests address the function by it.
   */
  readonly functions = new Map<string, RegisteredFunction>();
  /** Names of the hooks the app registered (appStart, preInvocation, ...). */
  readonly hooks: string[] = [];
  /** What the library logged outside any invocation. */
  readonly systemLogs: RpcLog[] = [];

  /** The module object `require('@azure/functions-core')` returns to the library. */
  readonly api = {
    setProgrammingModel: (model: ProgrammingModel): void => {
      this.programmingModel = model;
    },
    getProgrammingModel: (): ProgrammingModel | undefined => this.programmingModel,
    registerFunction: (metadata: FunctionMetadata, handler: Handler): Disposable => this.register(metadata, handler),
    registerHook: (name: string): Disposable => {
      this.hooks.push(name);
      return { dispose: () => this.hooks.splice(this.hooks.indexOf(name), 1) };
    },
    log: (level: LogLevel, logCategory: LogCategory, message: string): void => {
      this.systemLogs.push({ level, logCategory, message });
    },
  };

  private register(metadata: FunctionMetadata, handler: Handler): Disposable {
    // The host indexes functions by name: a second registration under one name would shadow the first.
    if (this.functions.has(metadata.name)) throw new Error(`a function named ${metadata.name} is already registered`);
    this.functions.set(metadata.name, { metadata, handler });
    return { dispose: () => this.functions.delete(metadata.name) };
  }
}
