import { ArmError } from './arm-error';
import type { EmulatorState } from './state';

export type OperationKind = 'read' | 'write' | 'delete';

export type FaultAction =
  /** Delay the answer. */
  | { kind: 'latency'; ms: number }
  /** Answer with an ARM error (429 + Retry-After, 5xx, 409 ...). */
  | { kind: 'error'; status: number; code: string; message?: string; retryAfterSeconds?: number }
  /** Delete the addressed resource before the request is handled: "deleted between two calls". */
  | { kind: 'delete-resource' }
  /** Change the store before the request is handled: "someone else wrote between two calls" (e.g. a squatter's create). */
  | { kind: 'run'; run: (state: EmulatorState) => void };

export interface FaultRule {
  method?: string | readonly string[];
  operation?: OperationKind;
  /** Substring (case-insensitive) or regular expression matched against the normalised path. */
  path?: string | RegExp;
  /** Let this many matching requests through before the fault starts. */
  skip?: number;
  /** Apply to this many matching requests, then stop (default: forever). */
  times?: number;
  action: FaultAction;
}

export interface FaultHandle {
  readonly rule: FaultRule;
  /** Requests this fault was applied to. */
  hits: number;
  /** Matching requests seen, applied or not. */
  seen: number;
  remove(): void;
}

export function operationKind(method: string): OperationKind {
  if (method === 'DELETE') return 'delete';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** Faults switchable per operation and per path pattern. */
export class FaultInjector {
  private readonly handles: FaultHandle[] = [];

  add(rule: FaultRule): FaultHandle {
    const handle: FaultHandle = {
      rule,
      hits: 0,
      seen: 0,
      remove: () => {
        const i = this.handles.indexOf(handle);
        if (i >= 0) this.handles.splice(i, 1);
      },
    };
    this.handles.push(handle);
    return handle;
  }

  clear(): void {
    this.handles.length = 0;
  }

  /** The faults that fire for this request, in the order they were added. */
  select(method: string, path: string): FaultAction[] {
    const fired: FaultAction[] = [];
    for (const h of this.handles) {
      const r = h.rule;
      if (r.method) {
        const methods = typeof r.method === 'string' ? [r.method] : r.method;
        if (!methods.some((m) => m.toUpperCase() === method)) continue;
      }
      if (r.operation && r.operation !== operationKind(method)) continue;
      if (r.path !== undefined) {
        const ok = typeof r.path === 'string' ? path.toLowerCase().includes(r.path.toLowerCase()) : r.path.test(path);
        if (!ok) continue;
      }
      h.seen++;
      if (h.seen <= (r.skip ?? 0)) continue;
      if (r.times !== undefined && h.hits >= r.times) continue;
      h.hits++;
      fired.push(r.action);
    }
    return fired;
  }
}

export function faultError(action: Extract<FaultAction, { kind: 'error' }>): ArmError {
  const headers: Record<string, string> = {};
  if (action.retryAfterSeconds !== undefined) headers['Retry-After'] = String(action.retryAfterSeconds);
  return new ArmError(action.status, action.code, action.message ?? `Injected fault: ${action.code}.`, headers);
}
