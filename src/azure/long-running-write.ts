import type { ServiceClient } from '@azure/core-client';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse, RestError } from '@azure/core-rest-pipeline';
import { abortableSleep } from '../abortable-sleep';
import { type CallBudget, type OperationMonitor, WriteStillRunningError, waitPassesHandOff } from '../engine/call-budget';
import { forCall } from './call-options';
import { retryAfterMs } from './retry-after';

type Json = Record<string, unknown>;

/** The resource provider reported the operation Failed or Canceled; `code` is its error code, if any. */
export class LongRunningOperationFailed extends Error {
  constructor(
    readonly status: string,
    readonly code: string | undefined,
    detail: string | undefined,
  ) {
    super(`the operation ${status.toLowerCase()}: ${code ?? ''} ${detail ?? ''}`.trim());
    this.name = 'LongRunningOperationFailed';
  }
}

export interface WriteOptions {
  /**
   * The port call's deadline, and its hand-off time: past it a still-running operation is not waited
   * for; WriteStillRunningError carries its monitor so a later delivery polls it instead of writing
   * again. No hand-off time: poll until the signal.
   */
  budget: CallBudget;
  /** Wait between polls when the RP sends no Retry-After. */
  pollIntervalMs: number;
  /**
   * The ETag the write was built from: sent as `If-Match` on the write (never on polls), so the RP
   * answers 412 PreconditionFailed instead of overwriting someone else's change.
   */
  ifMatch?: string;
}

export function parse(response: PipelineResponse): unknown {
  const text = response.bodyAsText;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function ensureSuccess(response: PipelineResponse): Json | undefined {
  const body = parse(response) as Json | undefined;
  if (response.status < 400) return body;
  const error = (body?.error ?? {}) as { code?: string; message?: string };
  throw new RestError(error.message ?? `HTTP ${response.status}`, {
    code: error.code,
    statusCode: response.status,
    request: response.request,
    response: { ...response, parsedBody: body } as never,
  });
}

/**
 * A PATCH or PUT of a resource, and its long-running operation, through the SDK client's own pipeline
 * (credential, retries, TLS).
 *
 * Why not the generic client's `begin...AndWait`: its poller polls twice before honouring
 * Retry-After and always ends with a GET, which costs ARM calls (and throttling budget) for nothing;
 * and its model drops top-level properties it does not know (a container group's `zones`), while a
 * GET-modify-PUT must send the whole body back. Here:
 * - no monitor header: the first answer is final;
 * - `Azure-AsyncOperation`: wait Retry-After, poll until Succeeded; the first answer's body already
 *   carries the identity, so the final GET is only made when it does not;
 * - `Location` only: wait Retry-After, poll until it answers 200 with the resource.
 */
export async function writeResource(
  client: ServiceClient,
  endpoint: string,
  method: 'PATCH' | 'PUT',
  resourceId: string,
  apiVersion: string,
  body: unknown,
  options: WriteOptions,
): Promise<Json> {
  const send = sender(client, endpoint, options.budget);
  const resourceUrl = `${endpoint.replace(/\/+$/, '')}${resourceId}?api-version=${encodeURIComponent(apiVersion)}`;
  const first = await send(method, resourceUrl, body, options.ifMatch ? { 'if-match': options.ifMatch } : {});
  const firstBody = ensureSuccess(first);
  const asyncOperation = first.headers.get('azure-asyncoperation');
  const location = first.headers.get('location');
  if (!asyncOperation && !(first.status === 202 && location)) return firstBody ?? {};
  const monitor: OperationMonitor = asyncOperation
    ? { style: 'async-operation', url: asyncOperation }
    : { style: 'location', url: location! };
  const result = await pollOperation(send, monitor, first, options);
  if (monitor.style === 'location') return result ?? ensureSuccess(await send('GET', resourceUrl)) ?? {};
  // The first answer already carries the new identity (Compute, ACI, AKS): no final GET needed,
  // unless it lacks the principal the roles are for.
  const identity = (firstBody as { identity?: { principalId?: string; userAssignedIdentities?: unknown } } | undefined)?.identity;
  if (
    identity &&
    (identity.principalId || !/SystemAssigned/i.test(String((body as { identity?: { type?: string } })?.identity?.type ?? '')))
  )
    return firstBody!;
  return ensureSuccess(await send('GET', resourceUrl)) ?? {};
}

/**
 * A DELETE and its long-running operation (same monitors as writeResource). `absent` when the RP answered
 * 204 (nothing there), `removed` otherwise, once the operation succeeded.
 */
export async function deleteResource(
  client: ServiceClient,
  endpoint: string,
  resourceId: string,
  apiVersion: string,
  options: WriteOptions,
): Promise<'removed' | 'absent'> {
  const send = sender(client, endpoint, options.budget);
  const first = await send('DELETE', `${endpoint.replace(/\/+$/, '')}${resourceId}?api-version=${encodeURIComponent(apiVersion)}`);
  ensureSuccess(first);
  if (first.status === 204) return 'absent';
  const asyncOperation = first.headers.get('azure-asyncoperation');
  const location = first.headers.get('location');
  if (asyncOperation || (first.status === 202 && location)) {
    const monitor: OperationMonitor = asyncOperation
      ? { style: 'async-operation', url: asyncOperation }
      : { style: 'location', url: location! };
    await pollOperation(send, monitor, first, options);
  }
  return 'removed';
}

/** Polls an operation handed off earlier until it ends; never writes. */
export async function resumeOperation(
  client: ServiceClient,
  endpoint: string,
  monitor: OperationMonitor,
  options: WriteOptions,
): Promise<void> {
  await pollOperation(sender(client, endpoint, options.budget), monitor, undefined, options);
}

type Send = (
  verb: 'PATCH' | 'PUT' | 'GET' | 'DELETE',
  url: string,
  payload?: unknown,
  conditional?: Record<string, string>,
) => Promise<PipelineResponse>;

function sender(client: ServiceClient, endpoint: string, budget: CallBudget): Send {
  const base = endpoint.replace(/\/+$/, '');
  return (verb, url, payload, conditional = {}) =>
    client.sendRequest(
      forCall(
        createPipelineRequest({
          url: url.startsWith('http') ? url : `${base}${url}`,
          method: verb,
          headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json', ...conditional }),
          body: payload === undefined ? undefined : JSON.stringify(payload),
        }),
        budget,
      ),
    );
}

/**
 * Waits Retry-After (or the poll interval), polls, until the operation ends. `last` is the response
 * whose Retry-After governs the first wait (the write's, or none when resuming: poll at once).
 * Returns the resource body a `location` monitor ends with.
 */
async function pollOperation(
  send: Send,
  monitor: OperationMonitor,
  last: PipelineResponse | undefined,
  options: WriteOptions,
): Promise<Json | undefined> {
  for (;;) {
    if (last) {
      const wait = retryAfterMs(last.headers.get('retry-after')) ?? options.pollIntervalMs;
      if (waitPassesHandOff(options.budget, wait)) throw new WriteStillRunningError(monitor, wait);
      await abortableSleep(wait, options.budget.signal);
    }
    last = await send('GET', monitor.url);
    const result = ensureSuccess(last);
    if (monitor.style === 'location') {
      if (last.status === 202) continue;
      return last.status === 200 ? result : undefined;
    }
    const status = String((result as { status?: string } | undefined)?.status ?? '');
    if (/^succeeded$/i.test(status)) return undefined;
    if (/^(failed|canceled|cancelled)$/i.test(status)) {
      const error = ((parse(last) as Json | undefined)?.error ?? {}) as { code?: string; message?: string };
      throw new LongRunningOperationFailed(status, error.code, error.message);
    }
  }
}
