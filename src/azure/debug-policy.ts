import type { PipelinePolicy } from '@azure/core-rest-pipeline';

export const ARM_DEBUG_POLICY = 'armDebugLog';

/** Query parameters shown as they are; any other value (an operation monitor's signature) is hidden. */
const SHOWN_QUERY = new Set(['api-version', '$filter', '$top', '$expand', '$skiptoken', '$select', 'timespan']);

/**
 * One line per ARM attempt for `--debug`, the compact form of what az prints there (azure-cli's
 * `azure/cli/core/sdk/policies.py` logs "Request URL:", "Request method:", "Response status:" and the
 * response headers, `x-ms-correlation-request-id` among them, which ARM support asks for). Headers are
 * never written: the Authorization header is a bearer token. Query values outside SHOWN_QUERY are
 * hidden too, since ARM's operation-monitor URLs carry a signature in theirs.
 */
export function armDebugPolicy(write: (line: string) => void): PipelinePolicy {
  return {
    name: ARM_DEBUG_POLICY,
    async sendRequest(request, next) {
      const started = Date.now();
      const call = `${request.method.toUpperCase()} ${shownUrl(request.url)}`;
      try {
        const response = await next(request);
        const correlation = response.headers.get('x-ms-correlation-request-id') ?? 'none';
        write(`ARM ${call} -> ${response.status} in ${Date.now() - started} ms (x-ms-correlation-request-id: ${correlation})`);
        return response;
      } catch (e) {
        const response = (e as { response?: { status?: number; headers?: { get(name: string): string | undefined } } }).response;
        const correlation = response?.headers?.get('x-ms-correlation-request-id') ?? 'none';
        const outcome = response?.status !== undefined ? String(response.status) : `no response (${e instanceof Error ? e.name : 'error'})`;
        write(`ARM ${call} -> ${outcome} in ${Date.now() - started} ms (x-ms-correlation-request-id: ${correlation})`);
        throw e;
      }
    },
  };
}

function shownUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unreadable URL)';
  }
  const query = [...parsed.searchParams].map(([k, v]) => `${k}=${SHOWN_QUERY.has(k.toLowerCase()) ? v : 'REDACTED'}`);
  return `${parsed.origin}${parsed.pathname}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}
