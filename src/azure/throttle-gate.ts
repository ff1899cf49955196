import { abortableSleep } from '../abortable-sleep';
import { retryAfterMs } from './retry-after';
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';

type Kind = 'read' | 'write' | 'delete';

/** ARM's documented refill rates per principal and subscription (tokens per second). */
const REFILL_PER_SECOND: Record<Kind, number> = { read: 25, write: 10, delete: 10 };
/** How long to keep pacing after a 429: long enough for a burst to drain. */
const PACING_WINDOW_MS = 60_000;

interface GateState {
  blockedUntil: number;
  pacedUntil: number;
  nextSlot: number;
}

function kindOf(request: PipelineRequest): Kind {
  if (request.method === 'DELETE') return 'delete';
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
}


/**
 * Shared by every client of the process. One 429 closes the gate for that subscription and
 * operation kind until Retry-After has passed, then lets requests through at ARM's refill rate for a
 * while. Without it, every concurrent remediation retries on its own and a burst of events turns
 * into a storm of 429s; with it, callers queue instead of hammering ARM.
 */
export class ArmThrottleGate {
  private readonly gates = new Map<string, GateState>();
  /** 429s seen, for benchmarks and logs. */
  throttled = 0;

  /** `onWait`: told how long each request is held at the gate (the `autopilot.arm.throttle_wait` metric). */
  constructor(private readonly options: { onWait?: (ms: number) => void } = {}) {}

  policy(): PipelinePolicy {
    return {
      name: 'armThrottleGate',
      sendRequest: async (request, next) => {
        const key = `${/\/subscriptions\/([^/?]+)/i.exec(request.url)?.[1]?.toLowerCase() ?? 'tenant'}|${kindOf(request)}`;
        const wait = this.claimSlot(key, kindOf(request));
        if (wait > 0) {
          this.options.onWait?.(wait);
          await abortableSleep(wait, request.abortSignal);
        }
        const response = await next(request);
        if (response.status === 429) this.onThrottled(key, response.headers.get('retry-after'));
        return response;
      },
    };
  }

  /**
   * How long the gate stays closed for a subscription (reads or writes, whichever is later): a
   * remediation that cannot wait that long inside its delivery hands off instead of queueing here.
   */
  closedForMs(subscriptionId: string): number {
    const now = Date.now();
    const sub = subscriptionId.toLowerCase();
    let until = 0;
    for (const kind of ['read', 'write'] as const) until = Math.max(until, this.gates.get(`${sub}|${kind}`)?.blockedUntil ?? 0);
    return Math.max(0, until - now);
  }

  private claimSlot(key: string, kind: Kind): number {
    const gate = this.gates.get(key);
    const now = Date.now();
    if (!gate || (now >= gate.blockedUntil && now >= gate.pacedUntil)) return 0;
    const slot = Math.max(now, gate.blockedUntil, gate.nextSlot);
    gate.nextSlot = slot + 1000 / REFILL_PER_SECOND[kind];
    return slot - now;
  }

  private onThrottled(key: string, retryAfter: string | undefined): void {
    this.throttled++;
    const now = Date.now();
    // A 429 without a usable wait (missing, or 0) still closes the gate for a second.
    const blockedUntil = now + (retryAfterMs(retryAfter) || 1000);
    const gate = this.gates.get(key) ?? { blockedUntil: 0, pacedUntil: 0, nextSlot: 0 };
    gate.blockedUntil = Math.max(gate.blockedUntil, blockedUntil);
    gate.pacedUntil = now + PACING_WINDOW_MS;
    gate.nextSlot = Math.max(gate.nextSlot, gate.blockedUntil);
    this.gates.set(key, gate);
  }
}
