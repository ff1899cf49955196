// The host <-> language worker messages the tests build and read, in the form @azure/functions receives
// and returns them through `@azure/functions-core`. Restated by us from the protocol's definition,
// Azure/azure-functions-language-worker-protobuf src/proto/FunctionRpc.proto (messages InvocationRequest,
// ParameterBinding, TypedData, RpcHttp, NullableString, InvocationResponse, StatusResult, RpcLog,
// BindingInfo): field names as protobufjs decodes them (camelCase), enums as the lower-case names the
// library's core types use ('in'/'out', 'success'/'failure', 'user'/'system', 'information', ...).

/**
 * TypedData.int is a `sint64`. The Node.js worker decodes the stream with @grpc/proto-loader's
 * `objects`, `defaults` and `oneofs` options and no `longs` option, so protobufjs hands it over as a
 * Long: `{ low, high, unsigned }` (two 32-bit halves), never a JavaScript number.
 */
export interface Int64 {
  low: number;
  high: number;
  unsigned: boolean;
}

/** TypedData: a oneof, exactly one field set. */
export interface TypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: RpcHttp;
  int?: Int64;
  double?: number;
}

export interface NullableString {
  value: string;
}

export interface RpcHttp {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  nullableHeaders?: Record<string, NullableString>;
  query?: Record<string, string>;
  nullableQuery?: Record<string, NullableString>;
  params?: Record<string, string>;
  nullableParams?: Record<string, NullableString>;
  body?: TypedData;
  statusCode?: string;
}

export interface ParameterBinding {
  name: string;
  data: TypedData;
}

/** What a test supplies for one invocation: the trigger's binding first, then its binding data. */
export interface InvocationInput {
  inputData: ParameterBinding[];
  triggerMetadata?: Record<string, TypedData>;
}

export interface InvocationRequest extends InvocationInput {
  invocationId: string;
  functionId: string;
  triggerMetadata: Record<string, TypedData>;
  traceContext: { traceParent: string; traceState: string; attributes: Record<string, string> };
}

export interface StatusResult {
  status: 'success' | 'failure' | 'cancelled';
  exception?: { message?: string; stackTrace?: string };
}

export interface InvocationResponse {
  invocationId: string;
  outputData?: ParameterBinding[];
  returnValue?: TypedData | null;
  result: StatusResult;
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type LogCategory = 'user' | 'system' | 'customMetric';

export interface RpcLog {
  /** Absent for logs outside an invocation (the library's own system logs at start-up). */
  invocationId?: string;
  level: LogLevel;
  logCategory: LogCategory;
  message: string;
}

/** BindingInfo of a function's metadata: the options the app gave the trigger or binding. */
export interface BindingInfo {
  type: string;
  direction: 'in' | 'out' | 'inout';
  [option: string]: unknown;
}

/** The metadata of one function, keyed by binding name, as the library registers it. */
export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingInfo>;
  retryOptions?: unknown;
}
