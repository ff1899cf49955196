import type { ServiceClient } from '@azure/core-client';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { abortableSleep } from '../abortable-sleep';
import { forCall } from './call-options';
import { ensureSuccess, LongRunningOperationFailed, parse, type WriteOptions } from './long-running-write';
import { retryAfterMs } from './retry-after';

type Json = Record<string, unknown>;

/** What a type module's follow-up gets: raw ARM calls through the SDK client's own pipeline. */
export interface ArmRequester {
  /** GET of a list under a resource, following `nextLink` pages. */
  list(path: string, apiVersion: string): Promise<Json[]>;
  /** GET of one resource. */
  get(path: string, apiVersion: string): Promise<Json>;
  /** POST of a resource action, waiting for its long-running operation. */
  action(path: string, apiVersion: string, body: unknown): Promise<void>;
}

/** Lists and actions for one remediation, through the pipeline (credential, retries, TLS, 429 gate). */
export function armRequester(client: ServiceClient, endpoint: string, options: WriteOptions): ArmRequester {
  const base = endpoint.replace(/\/+$/, '');
  const send = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    client.sendRequest(
      forCall(
        createPipelineRequest({
          url: url.startsWith('http') ? url : `${base}${url}`,
          method,
          headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json' }),
          body: payload === undefined ? undefined : JSON.stringify(payload),
        }),
        options.budget,
      ),
    );
  const urlOf = (path: string, apiVersion: string) => `${path}?api-version=${encodeURIComponent(apiVersion)}`;
  return {
    async list(path, apiVersion) {
      const items: Json[] = [];
      let next: string | undefined = urlOf(path, apiVersion);
      // A nextLink from the service is followed only on the same host: it is service data, not ours to trust further.
      while (next) {
        const page = (ensureSuccess(await send('GET', next)) ?? {}) as { value?: unknown; nextLink?: unknown };
        if (Array.isArray(page.value)) items.push(...(page.value as Json[]));
        next = typeof page.nextLink === 'string' && page.nextLink.startsWith(`${base}/`) ? page.nextLink : undefined;
      }
      return items;
    },
    async get(path, apiVersion) {
      return (ensureSuccess(await send('GET', urlOf(path, apiVersion))) ?? {}) as Json;
    },
    async action(path, apiVersion, body) {
      const first = await send('POST', urlOf(path, apiVersion), body);
      ensureSuccess(first);
      const monitor = first.headers.get('azure-asyncoperation');
      const location = first.headers.get('location');
      if (!monitor && !(first.status === 202 && location)) return;
      let last = first;
      for (;;) {
        await abortableSleep(retryAfterMs(last.headers.get('retry-after')) ?? options.pollIntervalMs, options.budget.signal);
        last = await send('GET', (monitor ?? location)!);
        const result = ensureSuccess(last) as { status?: string } | undefined;
        if (!monitor) {
          if (last.status === 202) continue;
          return;
        }
        const status = String(result?.status ?? '');
        if (/^succeeded$/i.test(status)) return;
        if (/^(failed|canceled|cancelled)$/i.test(status)) {
          const error = ((parse(last) as Json | undefined)?.error ?? {}) as { code?: string; message?: string };
          throw new LongRunningOperationFailed(status, error.code, error.message);
        }
      }
    },
  };
}
