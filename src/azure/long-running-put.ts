import { createHttpPoller } from '@azure/core-lro';
import { createHttpHeaders, createPipelineRequest, RestError, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { ServiceClient } from '@azure/core-client';

function parse(response: PipelineResponse): unknown {
  const text = response.bodyAsText;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function ensureSuccess(response: PipelineResponse): void {
  if (response.status < 400) return;
  const body = parse(response) as { error?: { code?: string; message?: string } } | undefined;
  throw new RestError(body?.error?.message ?? `HTTP ${response.status}`, {
    code: body?.error?.code,
    statusCode: response.status,
    request: response.request,
    response: { ...response, parsedBody: body } as never,
  });
}

/**
 * PUTs a body exactly as given, through the SDK client's own pipeline (credential, retries, TLS), and
 * polls the long-running operation with the SDK's own poller. Used for GET-modify-PUT: the generic
 * client's model would drop top-level properties it does not know (e.g. a container group's
 * `zones`), and a PUT must carry the resource's whole body.
 */
export async function putWholeBody(
  client: ServiceClient,
  endpoint: string,
  resourceId: string,
  apiVersion: string,
  body: unknown,
  options: { abortSignal: AbortSignal; pollIntervalMs?: number },
): Promise<Record<string, unknown>> {
  const base = endpoint.replace(/\/+$/, '');
  const send = async (method: 'PUT' | 'GET', url: string, payload?: unknown) => {
    const request = createPipelineRequest({
      url,
      method,
      headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json' }),
      body: payload === undefined ? undefined : JSON.stringify(payload),
      abortSignal: options.abortSignal,
    });
    const response = await client.sendRequest(request);
    ensureSuccess(response);
    const parsed = parse(response);
    return {
      flatResponse: parsed,
      rawResponse: { statusCode: response.status, headers: response.headers.toJSON({ preserveCase: false }), body: parsed },
    };
  };
  const url = `${base}${resourceId}?api-version=${encodeURIComponent(apiVersion)}`;
  const poller = await createHttpPoller<Record<string, unknown>, never>(
    {
      requestMethod: 'PUT',
      requestPath: url,
      sendInitialRequest: () => send('PUT', url, body),
      sendPollRequest: (path: string) => send('GET', path.startsWith('http') ? path : `${base}${path}`),
    },
    { intervalInMs: options.pollIntervalMs },
  );
  return poller.pollUntilDone({ abortSignal: options.abortSignal });
}
