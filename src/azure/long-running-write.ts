import type { ServiceClient } from '@azure/core-client';
import { abortableSleep } from '../abortable-sleep';
import { retryAfterMs } from './retry-after';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse, RestError } from '@azure/core-rest-pipeline';

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
  abortSignal: AbortSignal;
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
  const base = endpoint.replace(/\/+$/, '');
  const resourceUrl = `${base}${resourceId}?api-version=${encodeURIComponent(apiVersion)}`;
  const send = (verb: 'PATCH' | 'PUT' | 'GET', url: string, payload?: unknown, conditional: Record<string, string> = {}) =>
    client.sendRequest(
      createPipelineRequest({
        url: url.startsWith('http') ? url : `${base}${url}`,
        method: verb,
        headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json', ...conditional }),
        body: payload === undefined ? undefined : JSON.stringify(payload),
        abortSignal: options.abortSignal,
      }),
    );

  const first = await send(method, resourceUrl, body, options.ifMatch ? { 'if-match': options.ifMatch } : {});
  const firstBody = ensureSuccess(first);
  const monitor = first.headers.get('azure-asyncoperation');
  const location = first.headers.get('location');
  if (!monitor && !(first.status === 202 && location)) return firstBody ?? {};

  let last = first;
  if (monitor) {
    for (;;) {
      await abortableSleep(retryAfterMs(last.headers.get('retry-after')) ?? options.pollIntervalMs, options.abortSignal);
      last = await send('GET', monitor);
      const status = String((ensureSuccess(last) as { status?: string } | undefined)?.status ?? '');
      if (/^succeeded$/i.test(status)) break;
      if (/^(failed|canceled|cancelled)$/i.test(status)) {
        const error = ((parse(last) as Json | undefined)?.error ?? {}) as { code?: string; message?: string };
        throw new LongRunningOperationFailed(status, error.code, error.message);
      }
    }
    // The first answer already carries the new identity (Compute, ACI, AKS): no final GET needed,
    // unless it lacks the principal the roles are for.
    const identity = (firstBody as { identity?: { principalId?: string; userAssignedIdentities?: unknown } } | undefined)?.identity;
    if (identity && (identity.principalId || !/SystemAssigned/i.test(String((body as { identity?: { type?: string } })?.identity?.type ?? '')))) return firstBody!;
    return ensureSuccess(await send('GET', resourceUrl)) ?? {};
  }
  for (;;) {
    await abortableSleep(retryAfterMs(last.headers.get('retry-after')) ?? options.pollIntervalMs, options.abortSignal);
    last = await send('GET', location!);
    const result = ensureSuccess(last);
    if (last.status === 202) continue;
    if (last.status === 200 && result) return result;
    return ensureSuccess(await send('GET', resourceUrl)) ?? {};
  }
}
