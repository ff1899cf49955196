// Each trigger's InvocationRequest as the Functions host builds it for a script-language worker, and the
// HTTP answer read back out of an InvocationResponse. Written by us from the protocol's documented
// fields (Azure/azure-functions-language-worker-protobuf src/proto/FunctionRpc.proto: InvocationRequest
// input_data and trigger_metadata, TypedData, RpcHttp) and from the host's conversion of binding values
// into TypedData (Azure/azure-functions-host src/WebJobs.Script.Grpc/MessageExtensions/
// GrpcMessageConversionExtensions.cs ToRpc: a JObject becomes `json`, a string `string`, a byte[]
// `bytes`, an HttpRequest `http`, a long `int`).
import type { BindingInfo, FunctionMetadata, Int64, InvocationInput, RpcHttp, TypedData } from './rpc';

/** TypedData.json of a value. */
export function json(value: unknown): TypedData {
  return { json: JSON.stringify(value) };
}

/** A sint64 as the worker decodes it (rpc.ts Int64): two's complement halves, as protobufjs' Long holds them. */
export function int64(value: number): Int64 {
  return { low: value | 0, high: Math.floor(value / 2 ** 32) | 0, unsigned: false };
}

/**
 * The bindings as the host reads them: the worker sends each as JSON ("raw bindings") named by its key
 * in the function's bindings map, so the return value's binding is named `$return`.
 */
export function bindingsOf(fn: FunctionMetadata): (BindingInfo & { name: string })[] {
  return Object.entries(fn.bindings).map(([name, binding]) => ({ ...binding, name }));
}

/** The name of the function's trigger binding (its one `in` binding whose type ends in "Trigger"). */
export function triggerBindingName(fn: FunctionMetadata): string {
  const trigger = bindingsOf(fn).find((b) => b.direction === 'in' && b.type.endsWith('Trigger'));
  if (!trigger) throw new Error(`${fn.name} has no trigger binding`);
  return trigger.name;
}

/**
 * An Event Grid event, in either schema: the Event Grid extension binds the trigger to each event of
 * the webhook body as a JObject (TypedData.json), and its binding data `data` (the event's data) goes to
 * trigger_metadata (Azure/azure-sdk-for-net sdk/eventgrid/Microsoft.Azure.WebJobs.Extensions.EventGrid
 * src/TriggerBinding/EventGridTriggerAttributeBindingProvider.cs).
 */
export function eventGridRequest(fn: FunctionMetadata, event: Record<string, any>): InvocationInput {
  return { inputData: [{ name: triggerBindingName(fn), data: json(event) }], triggerMetadata: { data: json(event.data) } };
}

export interface HttpCall {
  method: string;
  /** The path under the default `api/` route prefix. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Route parameters, as the host matched them. */
  params?: Record<string, string>;
}

/**
 * An HTTP request as RpcHttp, for a worker that announced the RawHttpBodyBytes, RpcHttpBodyOnly and
 * UseNullableValueDictionaryForHttp capabilities (the v4 Node worker does): the body as bytes, headers,
 * query and route params both plain and as NullableString maps, and, with RpcHttpTriggerMetadataRemoved,
 * no `req`/`$request` trigger metadata; route params also arrive as trigger metadata strings
 * (Azure/azure-functions-host src/WebJobs.Script.Grpc/Extensions/ScriptInvocationContextExtensions.cs).
 */
export function httpRequest(fn: FunctionMetadata, call: HttpCall): InvocationInput {
  const headers = { host: 'autopilot.azurewebsites.net', ...(call.headers ?? {}) };
  const params = call.params ?? {};
  const nullable = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { value: v }]));
  const http: RpcHttp = {
    method: call.method,
    url: `https://autopilot.azurewebsites.net/api/${call.path}`,
    headers,
    nullableHeaders: nullable(headers),
    query: {},
    nullableQuery: {},
    params,
    nullableParams: nullable(params),
    body: call.body === undefined ? undefined : { bytes: Buffer.from(call.body) },
  };
  const triggerMetadata = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { string: v }]));
  return { inputData: [{ name: triggerBindingName(fn), data: { http } }], triggerMetadata };
}

/**
 * A timer tick: the Timers extension's TimerInfo (Schedule, ScheduleStatus, IsPastDue), serialised with
 * its .NET property names as TypedData.json (Azure/azure-webjobs-sdk-extensions
 * src/WebJobs.Extensions/Extensions/Timers/TimerInfo.cs); the library camel-cases it for the handler.
 */
export function timerRequest(
  fn: FunctionMetadata,
  timerInfo: { IsPastDue: boolean; ScheduleStatus?: Record<string, string> | null },
): InvocationInput {
  const info = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, ...timerInfo };
  return { inputData: [{ name: triggerBindingName(fn), data: json(info) }] };
}

/**
 * A queue message with host.json `extensions.queues.messageEncoding: "none"`: the Storage Queues
 * extension passes the text as stored, no base64 decoding, and a script-language trigger binds it as a
 * string (TypedData.string). Its binding data (QueueTriggerBindingDataProvider: QueueTrigger,
 * DequeueCount, Id, PopReceipt, InsertionTime, ExpirationTime, NextVisibleTime) goes to
 * trigger_metadata; DequeueCount is a long, so TypedData.int, a sint64 (Azure/azure-sdk-for-net
 * sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues).
 */
export function queueRequest(fn: FunctionMetadata, text: string, dequeueCount = 1): InvocationInput {
  return {
    inputData: [{ name: triggerBindingName(fn), data: { string: text } }],
    triggerMetadata: {
      QueueTrigger: { string: text },
      DequeueCount: { int: int64(dequeueCount) },
      Id: { string: '5f4e3a32-8c1f-4c43-9c1a-0e7f2a6f0b11' },
      PopReceipt: { string: 'AgAAAAMAAAAAAAAA' },
      InsertionTime: json('2026-01-01T00:00:00+00:00'),
      ExpirationTime: json('2026-01-08T00:00:00+00:00'),
      NextVisibleTime: json('2026-01-01T00:00:30+00:00'),
    },
  };
}

export interface HttpAnswer {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

/** The HTTP answer in an InvocationResponse's return value (the `$return` http output binding). */
export function httpAnswer(returnValue: TypedData | null | undefined): HttpAnswer {
  const http = returnValue?.http;
  if (!http) throw new Error(`no http return value: ${JSON.stringify(returnValue)}`);
  const body = http.body ?? {};
  const text = body.string ?? (body.bytes ? Buffer.from(body.bytes).toString('utf8') : (body.json ?? ''));
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  const headers = Object.fromEntries(Object.entries(http.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { status: Number(http.statusCode ?? 200), headers, text, body: parsed };
}
