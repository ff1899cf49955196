// Shared by the worker tests: the app settings that wire the app inside the worker process to this
// run's emulator (as test/support/app-fixture.ts does in-process), and the host's input shapes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArmEmulator } from '../../tools/arm-emulator';
import { type FunctionMetadata, json, type RpcHttp, type TypedData } from './host';

/** App settings (environment variables of the worker) for an app talking to the emulator. */
export function emulatorAppSettings(emulator: ArmEmulator, rulesYaml: string, more: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'worker-app-'));
  writeFileSync(join(dir, 'rules.yaml'), rulesYaml);
  writeFileSync(join(dir, 'ca.pem'), emulator.ca);
  return {
    AUTOPILOT_RULES_PATH: join(dir, 'rules.yaml'),
    AUTOPILOT_ARM_ENDPOINT: emulator.url,
    AUTOPILOT_ARM_CA_PATH: join(dir, 'ca.pem'),
    AUTOPILOT_LRO_POLL_INTERVAL_MS: '20',
    ...emulator.managedIdentityEnvironment,
    ...more,
  };
}

/** The trigger binding of a function (the one `in` binding whose type ends in "Trigger"). */
export function triggerBindingName(fn: FunctionMetadata): string {
  const [name] = Object.entries(fn.bindings).find(([, b]) => b.type.endsWith('Trigger'))!;
  return name;
}

/**
 * An Event Grid event as the host hands it to a script-language worker: the Event Grid extension
 * binds the trigger to the event as a JObject (both schemas: the webhook body is split into events,
 * each passed whole), which the host's ToRpc turns into TypedData.json; its binding data `data` (the
 * event's data) goes to triggerMetadata. (Azure/azure-sdk-for-net
 * sdk/eventgrid/Microsoft.Azure.WebJobs.Extensions.EventGrid/src/TriggerBinding/EventGridTriggerAttributeBindingProvider.cs;
 * Azure/azure-functions-host src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs.)
 */
export function eventGridInput(fn: FunctionMetadata, event: Record<string, any>) {
  return { inputData: [{ name: triggerBindingName(fn), data: json(event) }], triggerMetadata: { data: json(event.data) } };
}

/**
 * An HTTP request as RpcHttp. The worker announced RawHttpBodyBytes, RpcHttpBodyOnly and
 * UseNullableValueDictionaryForHttp (worker getWorkerCapabilities.ts), so the host sends the body as
 * bytes and headers/query/params both plain and as nullable dictionaries, and, with
 * RpcHttpTriggerMetadataRemoved, no `req`/`$request` trigger metadata (host
 * ScriptInvocationContextExtensions.ShouldSkipBindingData); route parameters arrive in `params`.
 */
export function httpInput(fn: FunctionMetadata, request: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer; params?: Record<string, string> }) {
  const headers = { host: 'autopilot.azurewebsites.net', ...(request.headers ?? {}) };
  const params = request.params ?? {};
  const nullable = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { value: v }]));
  const http: RpcHttp = {
    method: request.method,
    url: `https://autopilot.azurewebsites.net/api/${request.path}`,
    headers,
    nullableHeaders: nullable(headers),
    query: {},
    nullableQuery: {},
    params,
    nullableParams: nullable(params),
    body: request.body === undefined ? undefined : { bytes: Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body) },
  };
  return { inputData: [{ name: triggerBindingName(fn), data: { http } }], triggerMetadata: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { string: v }])) as Record<string, TypedData> };
}

/** The HTTP answer in an InvocationResponse's return value (the `$return` http output binding). */
export function httpAnswer(returnValue: TypedData | undefined): { status: number; headers: Record<string, string>; text: string; body: any } {
  const http = returnValue?.http as RpcHttp | undefined;
  if (!http) throw new Error(`no http return value: ${JSON.stringify(returnValue)}`);
  const b = http.body ?? {};
  const text = b.string ?? (b.bytes ? Buffer.from(b.bytes).toString('utf8') : b.json ?? '');
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const headers = Object.fromEntries(Object.entries(http.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { status: Number(http.statusCode ?? 200), headers, text, body };
}
