import type { PipelineRequest } from '@azure/core-rest-pipeline';
import type { CallBudget } from '../engine/call-budget';

type TracingOptions = NonNullable<PipelineRequest['tracingOptions']>;
type TracingContext = NonNullable<TracingOptions['tracingContext']>;

/**
 * How a port call's hand-off time reaches the pipeline's throttle gate: as a value of the operation's
 * tracing context. The SDK copies an operation's `tracingOptions` onto every request it sends for it
 * (each page, each retry), so the gate reads the time from the very request it paces; nothing is kept
 * beside the call.
 */
const HAND_OFF_AT = Symbol.for('identity-autopilot.handOffAt');

/** An immutable tracing context, as @azure/core-tracing's own (which this package does not depend on). */
class CallContext implements TracingContext {
  constructor(private readonly values: ReadonlyMap<symbol, unknown> = new Map()) {}
  getValue(key: symbol): unknown {
    return this.values.get(key);
  }
  setValue(key: symbol, value: unknown): TracingContext {
    return new CallContext(new Map(this.values).set(key, value));
  }
  deleteValue(key: symbol): TracingContext {
    const values = new Map(this.values);
    values.delete(key);
    return new CallContext(values);
  }
}

/** A bare signal (tools and tests calling an adapter directly) is a budget without a hand-off time. */
export function budgetOf(call: CallBudget | AbortSignal): CallBudget {
  return call instanceof AbortSignal ? { signal: call } : call;
}

/** The tracing options that carry the budget's hand-off time (none without one). */
export function tracingFor(call: CallBudget | AbortSignal): TracingOptions | undefined {
  const { handOffAt } = budgetOf(call);
  return handOffAt === undefined ? undefined : { tracingContext: new CallContext().setValue(HAND_OFF_AT, handOffAt) };
}

/** The options of an SDK operation made for a port call: its abort signal and its hand-off time. */
export function sdkOptions(call: CallBudget | AbortSignal): { abortSignal: AbortSignal; tracingOptions?: TracingOptions } {
  const tracingOptions = tracingFor(call);
  return { abortSignal: budgetOf(call).signal, ...(tracingOptions ? { tracingOptions } : {}) };
}

/**
 * A request built by hand (not by an SDK operation) for a port call: its abort signal and hand-off time.
 * Set after creation: createPipelineRequest does not copy `tracingOptions`.
 */
export function forCall(request: PipelineRequest, call: CallBudget | AbortSignal): PipelineRequest {
  request.abortSignal = budgetOf(call).signal;
  request.tracingOptions = tracingFor(call);
  return request;
}

/** The hand-off time of the port call a request belongs to, if its caller can hand off. */
export function handOffAtOf(request: PipelineRequest): number | undefined {
  const value = request.tracingOptions?.tracingContext?.getValue(HAND_OFF_AT);
  return typeof value === 'number' ? value : undefined;
}
