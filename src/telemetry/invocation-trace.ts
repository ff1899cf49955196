import { context, TraceFlags, trace } from '@opentelemetry/api';

/** The part of the Functions InvocationContext this needs: the host's W3C trace context. */
interface WithTraceContext {
  traceContext?: { traceParent?: string | null; traceState?: string | null };
}

// W3C Trace Context, version 00: https://www.w3.org/TR/trace-context/#traceparent-header
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Runs a trigger's handler under the Functions host's trace context, so the app's spans belong to
 * the host's invocation (one operation in Application Insights). This is what
 * @azure/functions-opentelemetry-instrumentation does in a preInvocation hook; that package also tells
 * the host that the worker sends its logs itself, which this app does not (its logs go through the
 * host), so only the propagation is done here. Without a context manager (telemetry off) it is a
 * plain call.
 */
export function underInvocationTrace<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => {
    const invocation = args[1] as WithTraceContext | undefined;
    const match = TRACEPARENT.exec(invocation?.traceContext?.traceParent?.trim().toLowerCase() ?? '');
    if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return handler(...args);
    const parent = trace.setSpanContext(context.active(), {
      traceId: match[1]!,
      spanId: match[2]!,
      traceFlags: parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
      isRemote: true,
    });
    return context.with(parent, () => handler(...args));
  };
}
