import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR } from './names';
import type { Telemetry } from './telemetry';

export const ARM_TELEMETRY_POLICY = 'armTelemetry';

/**
 * A per-retry pipeline policy for every ARM client: counts each attempt by method and status code
 * (`autopilot.arm.calls`), traces it as a child span of the remediation, and measures how long a
 * request that got a 429 was held before its next attempt (the SDK's Retry-After sleep) as
 * `autopilot.arm.throttle_wait`. It sits outside the shared 429 gate, which reports its own waits,
 * so no wait is counted twice. Spans carry the method, the path (resource ids) and the status, never
 * the query (operation monitor URLs carry signatures) or a header.
 */
export function armTelemetryPolicy(telemetry: Telemetry): PipelinePolicy {
  const throttledAt = new WeakMap<PipelineRequest, number>();
  return {
    name: ARM_TELEMETRY_POLICY,
    async sendRequest(request, next) {
      const since = throttledAt.get(request);
      if (since !== undefined) {
        throttledAt.delete(request);
        telemetry.throttleWait(Date.now() - since);
      }
      const method = request.method.toUpperCase();
      const span = telemetry.tracer.startSpan(`ARM ${method}`, {
        kind: SpanKind.CLIENT,
        attributes: { [ATTR.httpMethod]: method, 'url.path': pathOf(request.url) },
      });
      try {
        const response = await context.with(trace.setSpan(context.active(), span), () => next(request));
        telemetry.armCall(method, response.status);
        span.setAttribute(ATTR.httpStatusCode, response.status);
        if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        if (response.status === 429) throttledAt.set(request, Date.now());
        return response;
      } catch (e) {
        // A RestError with a response was answered; anything else never got one.
        const status = (e as { response?: { status?: number } })?.response?.status;
        telemetry.armCall(method, status);
        if (status !== undefined) span.setAttribute(ATTR.httpStatusCode, status);
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.name : 'error' });
        throw e;
      } finally {
        span.end();
      }
    },
  };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}
