import type { AbortSignalLike } from '@azure/abort-controller';
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { abortableSleep } from '../abortable-sleep';
import { TurnPastHandOffError, waitPassesHandOff } from '../engine/call-budget';
import { handOffAtOf } from './call-options';
import { retryAfterMs } from './retry-after';

type Kind = 'read' | 'write' | 'delete';

interface Limits {
  capacity: number;
  refillPerSecond: number;
}

/**
 * ARM's token buckets per subscription, principal and operation kind ("Understand how Azure Resource
 * Manager throttles requests", learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
 * reads 250 + 25/s, writes and deletes 200 + 10/s. The global buckets, shared by every principal of
 * the subscription, are 15 times these; their headers are read in the per-principal scale (/ 15).
 */
const LIMITS: Record<Kind, Limits> = {
  read: { capacity: 250, refillPerSecond: 25 },
  write: { capacity: 200, refillPerSecond: 10 },
  delete: { capacity: 200, refillPerSecond: 10 },
};
const GLOBAL_FACTOR = 15;

/** The remaining-requests headers per kind: per principal, and across all principals. */
const HEADERS: Record<Kind, { own: string; global: string; tenant: string }> = {
  read: {
    own: 'x-ms-ratelimit-remaining-subscription-reads',
    global: 'x-ms-ratelimit-remaining-subscription-global-reads',
    tenant: 'x-ms-ratelimit-remaining-tenant-reads',
  },
  write: {
    own: 'x-ms-ratelimit-remaining-subscription-writes',
    global: 'x-ms-ratelimit-remaining-subscription-global-writes',
    tenant: 'x-ms-ratelimit-remaining-tenant-writes',
  },
  delete: {
    own: 'x-ms-ratelimit-remaining-subscription-deletes',
    global: 'x-ms-ratelimit-remaining-subscription-global-deletes',
    tenant: 'x-ms-ratelimit-remaining-tenant-writes',
  },
};

/**
 * The pacing law. Below a floor the app sends nothing until the refill lifts the bucket; above it, each
 * instance sends at `refill x (level - floor) / span`. Every instance reads the same level from ARM's
 * headers, so with k instances sending, the bucket settles where k x (level - floor) / span = 1: all of
 * them together send at exactly the refill rate, the bucket never empties (no 429), and nobody needs to
 * know k. A full bucket allows bursts far above the refill.
 *
 * Floor and span are sized by what an instance cannot see: the calls of the others that ARM has counted
 * but whose answers (and so their level) have not come back yet. At the refill rate that is about
 * refill x latency tokens (the lag), so floor = FLOOR_LAGS lags and span = SPAN_LAGS lags (the span
 * covers 4 instances at a loop gain of 1), never under a token or two, never over a tenth and a fifth of
 * the bucket. With ARM's writes (10/s) at 1 s a call that is a floor of 20 tokens and a span of 40; at
 * 80 ms (the emulator) 1.6 and 4. A fixed 2 and 8 once wasted a second of every burst's refill where calls
 * are fast, and left too little room where they are slow.
 */
const FLOOR_LAGS = 2;
const SPAN_LAGS = 4;
const MIN_FLOOR = 1;
const MIN_SPAN = 4;
const MAX_FLOOR_SHARE = 0.1;
const MAX_SPAN_SHARE = 0.2;
/** The others' spending is measured over at least this long (headers are whole tokens). */
const OTHERS_WINDOW_MS = 1000;
/** ...and trusted for this long after. */
const OTHERS_FRESH_MS = 5000;
const OTHERS_WEIGHT = 0.5;
/** The level is always refilled by at least this share of the refill (see netRefill). */
const MIN_NET_REFILL_SHARE = 0.1;
/** Until a call of the key has been timed: ARM's writes commonly take about this long. */
const ASSUMED_LATENCY_MS = 500;
/** Weight of each new latency sample in the moving average. */
const LATENCY_WEIGHT = 0.2;
/** Without any observation yet, assume half a bucket: a first burst of several instances cannot empty it blind. */
const UNOBSERVED_SHARE = 0.5;
/** With nothing measured, assume the budget is shared by this many instances (the bench's largest count). */
const ASSUMED_SHARERS = 4;
/** The window over which this instance measures what it actually sends. */
const RATE_WINDOW_MS = 3000;
/** Re-read the level at least this often while waiting: other instances' calls change it. */
const MAX_STEP_MS = 250;

/** What each response taught about the bucket: its level (per-principal tokens) when the call was sent. */
interface Observation {
  level: number;
  at: number;
  /** When the observed call was sent: own calls sent after it are not in `level` yet. */
  sentAt: number;
}

interface KeyState {
  kind: Kind;
  observation?: Observation;
  /** A response without remaining headers: nothing meters this key (not ARM, or throttling off). */
  unmetered: boolean;
  /** Own send times not yet reflected in an observation, oldest first. */
  sends: number[];
  /** Own send times of the last RATE_WINDOW_MS, for the app's measured share of the refill. */
  recent: number[];
  lastRelease: number;
  /** Retry-After of a 429: nothing is sent before it. */
  blockedUntil: number;
  /** Callers queued at this key, first come first served. */
  tail: Promise<void>;
  waiting: number;
  /** Bookings (hand-offs and admitted work): when the writes booked so far are expected to have gone. */
  bookedUntil: number;
  /** Writes booked against the burst now, not yet sent. */
  burstBooked: number;
  /** Moving average of this key's call latency (send to answer), ms; undefined until one is timed. */
  latencyMs?: number;
  /** Start of the window over which the others' spending is measured: level then, own calls since. */
  sample?: { sentAt: number; level: number; own: number };
  /** What every other caller of the bucket spent and what this instance spent, tokens per second (moving averages), and when measured. */
  others?: { perSecond: number; ownPerSecond: number; at: number };
}

/** Hooks for metrics: the one place each ARM call and each pacing wait passes. */
export interface GateListener {
  armCall?(method: string, status: number): void;
  throttleWait?(ms: number): void;
}

function kindOf(request: PipelineRequest): Kind {
  if (request.method === 'DELETE') return 'delete';
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
}

function subscriptionOf(url: string): string {
  return /\/subscriptions\/([^/?]+)/i.exec(url)?.[1]?.toLowerCase() ?? 'tenant';
}

function headerNumber(response: PipelineResponse, name: string): number | undefined {
  const raw = response.headers.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Paces the app's ARM calls by what ARM tells every caller with the app's principal: the
 * `x-ms-ratelimit-remaining-subscription-*` headers (per principal), their `-global-` variants (all
 * principals; the tighter of the two counts) and Retry-After on a 429. The app's instances share no
 * memory (on Flex Consumption the Event Grid, queue and HTTP functions scale on separate instances),
 * but they share the principal and therefore the numbers: each paces itself by the same level, so all
 * of them slow down together, without a lock or a coordinator. Shared by every client of one process.
 */
export class ArmThrottleGate {
  private readonly keys = new Map<string, KeyState>();
  /** 429s seen, for benchmarks and logs. */
  throttled = 0;

  constructor(private readonly listener: GateListener = {}) {}

  policy(): PipelinePolicy {
    return {
      name: 'armThrottleGate',
      sendRequest: async (request, next) => {
        const kind = kindOf(request);
        const state = this.state(`${subscriptionOf(request.url)}|${kind}`, kind);
        // The hand-off time of the port call this request belongs to, carried by the request itself.
        const handOffAt = handOffAtOf(request);
        const sentAt = await this.release(state, request.abortSignal, handOffAt);
        let response: PipelineResponse;
        try {
          response = await next(request);
        } catch (e) {
          this.forget(state, sentAt);
          throw e;
        }
        this.listener.armCall?.(request.method, response.status);
        this.time(state, Date.now() - sentAt);
        this.observe(state, response, sentAt);
        if (response.status === 429) {
          const wait = this.onThrottled(state, response.headers.get('retry-after'));
          // The SDK would sleep Retry-After and try again; past the hand-off time the rest goes to the queue instead.
          if (waitPassesHandOff({ handOffAt }, wait)) throw new TurnPastHandOffError(wait);
        }
        return response;
      },
    };
  }

  closedForMs(subscriptionId: string): number {
    const now = Date.now();
    let until = 0;
    for (const kind of ['read', 'write'] as const)
      until = Math.max(until, this.keys.get(`${subscriptionId.toLowerCase()}|${kind}`)?.blockedUntil ?? 0);
    return Math.max(0, until - now);
  }

  bookWrites(subscriptionId: string, writes: number): number {
    const state = this.state(`${subscriptionId.toLowerCase()}|write`, 'write');
    const now = Date.now();
    const blocked = Math.max(0, state.blockedUntil - now);
    if (state.unmetered || writes <= 0) return blocked;
    if (state.bookedUntil < now) {
      state.bookedUntil = now;
      state.burstBooked = 0;
    }
    // What the bucket holds above the pacing span can go at once (the burst); the rest at the app's share of the refill.
    const burst = Math.max(0, this.level(state, now) - this.floor(state) - this.span(state) - state.waiting - state.burstBooked);
    const fromBurst = state.bookedUntil <= now ? Math.min(writes, Math.floor(burst)) : 0;
    state.burstBooked += fromBurst;
    const paced = writes - fromBurst;
    state.bookedUntil += (paced / this.shareRate(state, now)) * 1000;
    return Math.max(blocked, state.bookedUntil - now);
  }

  writeTurnMs(subscriptionId: string): number {
    const state = this.keys.get(`${subscriptionId.toLowerCase()}|write`);
    if (!state) return 0;
    const now = Date.now();
    return Math.max(this.expectedWaitMs(state, state.waiting, now), state.waiting === 0 ? this.pacingWaitMs(state, now) : 0);
  }

  private state(key: string, kind: Kind): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = {
        kind,
        unmetered: false,
        sends: [],
        recent: [],
        lastRelease: 0,
        blockedUntil: 0,
        tail: Promise.resolve(),
        waiting: 0,
        bookedUntil: 0,
        burstBooked: 0,
      };
      this.keys.set(key, state);
    }
    return state;
  }

  /** Tokens the other instances may have spent unseen: the refill over one call's latency. */
  private lag(state: KeyState): number {
    return (LIMITS[state.kind].refillPerSecond * (state.latencyMs ?? ASSUMED_LATENCY_MS)) / 1000;
  }

  private floor(state: KeyState): number {
    return Math.min(MAX_FLOOR_SHARE * LIMITS[state.kind].capacity, Math.max(MIN_FLOOR, FLOOR_LAGS * this.lag(state)));
  }

  private span(state: KeyState): number {
    return Math.min(MAX_SPAN_SHARE * LIMITS[state.kind].capacity, Math.max(MIN_SPAN, SPAN_LAGS * this.lag(state)));
  }

  private time(state: KeyState, ms: number): void {
    state.latencyMs = state.latencyMs === undefined ? ms : state.latencyMs + LATENCY_WEIGHT * (ms - state.latencyMs);
  }

  /**
   * The bucket's level now, in per-principal tokens: the last observation, refilled since by what the
   * others leave of the refill, less own calls not in it. Refilling it by the whole refill would let
   * each of k instances count, between two of its own observations, the tokens the others spend.
   */
  private level(state: KeyState, now: number): number {
    const limits = LIMITS[state.kind];
    const observed = state.observation;
    const base = observed
      ? Math.min(limits.capacity, observed.level + ((now - observed.at) / 1000) * this.netRefill(state, now))
      : UNOBSERVED_SHARE * limits.capacity;
    return base - state.sends.length;
  }

  /**
   * The refill left to this instance: the refill less what the others were measured to spend, never
   * under a tenth of it (an instance that sends nothing observes nothing, so it must still come to try),
   * and the whole refill once the measure is older than OTHERS_FRESH_MS.
   */
  private netRefill(state: KeyState, now: number): number {
    const refill = LIMITS[state.kind].refillPerSecond;
    const others = state.others && now - state.others.at < OTHERS_FRESH_MS ? state.others.perSecond : 0;
    return Math.max(MIN_NET_REFILL_SHARE * refill, refill - others);
  }

  /**
   * Measures the others' spending from two observations at least OTHERS_WINDOW_MS apart: the level the
   * refill would have reached, less the level seen, less this instance's own calls in between. Skipped
   * when the bucket may have been full (its refill then goes nowhere and says nothing).
   */
  private measureOthers(state: KeyState, level: number, sentAt: number, ownCounted: number): void {
    const sample = state.sample;
    if (!sample) {
      state.sample = { sentAt, level, own: 0 };
      return;
    }
    sample.own += ownCounted;
    const seconds = (sentAt - sample.sentAt) / 1000;
    if (seconds * 1000 < OTHERS_WINDOW_MS) return;
    const limits = LIMITS[state.kind];
    const refilled = sample.level + seconds * limits.refillPerSecond;
    if (refilled < limits.capacity - 1) {
      const perSecond = Math.max(0, (refilled - level - sample.own) / seconds);
      const ownPerSecond = sample.own / seconds;
      const previous = state.others;
      state.others = previous
        ? {
            perSecond: previous.perSecond + OTHERS_WEIGHT * (perSecond - previous.perSecond),
            ownPerSecond: previous.ownPerSecond + OTHERS_WEIGHT * (ownPerSecond - previous.ownPerSecond),
            at: Date.now(),
          }
        : { perSecond, ownPerSecond, at: Date.now() };
    }
    state.sample = { sentAt, level, own: 0 };
  }

  /** This instance's send rate at a level (calls per second); 0 at or below the floor. */
  private rate(state: KeyState, level: number): number {
    const limits = LIMITS[state.kind];
    return Math.max(0, (limits.refillPerSecond * (level - this.floor(state))) / this.span(state));
  }

  /**
   * This instance's expected share of the refill rate, for bookings: the largest of what the pacing law
   * allows at the current level, what it actually sent over the last seconds (the level sits at the
   * floor while the bucket is shared), its part of everything the bucket was measured to spend (an
   * instance with twice the work of another sends about twice as much), and the refill split among
   * ASSUMED_SHARERS; at most the refill rate. The larger guess is the safer one: a booking that comes
   * too early costs a trip back to the queue, one that comes too late leaves ARM's budget unused.
   */
  private shareRate(state: KeyState, now: number): number {
    const refill = LIMITS[state.kind].refillPerSecond;
    while (state.recent.length > 0 && state.recent[0]! < now - RATE_WINDOW_MS) state.recent.shift();
    const measured = state.recent.length >= 3 ? state.recent.length / (RATE_WINDOW_MS / 1000) : 0;
    const spent = state.others && now - state.others.at < OTHERS_FRESH_MS ? state.others : undefined;
    const part =
      spent && spent.ownPerSecond + spent.perSecond > 0 ? (refill * spent.ownPerSecond) / (spent.ownPerSecond + spent.perSecond) : 0;
    return Math.min(refill, Math.max(refill / ASSUMED_SHARERS, part, measured, this.rate(state, this.level(state, now))));
  }

  /**
   * Waits for this call's turn: first come first served per subscription and kind, then until the
   * pacing law lets it go. A turn that would come after the remediation's hand-off time throws
   * TurnPastHandOffError instead of waiting (the call is not made).
   */
  private async release(state: KeyState, signal: AbortSignalLike | undefined, handOffAt: number | undefined): Promise<number> {
    const ahead = state.tail;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    state.tail = Promise.all([ahead, mine]).then(() => undefined);
    state.waiting++;
    const started = Date.now();
    try {
      if (handOffAt !== undefined && !state.unmetered) {
        const expected = this.expectedWaitMs(state, state.waiting - 1, Date.now());
        if (expected > 0 && waitPassesHandOff({ handOffAt }, expected)) {
          throw new TurnPastHandOffError(expected);
        }
      }
      await this.waitForTurn(ahead, signal, handOffAt, state);
      for (;;) {
        const now = Date.now();
        const wait = this.pacingWaitMs(state, now);
        if (wait <= 0) break;
        if (waitPassesHandOff({ handOffAt }, wait, now)) {
          throw new TurnPastHandOffError(wait);
        }
        await abortableSleep(Math.min(wait, MAX_STEP_MS), signal);
      }
      const sentAt = Date.now();
      state.sends.push(sentAt);
      state.recent.push(sentAt);
      state.lastRelease = sentAt;
      if (state.burstBooked > 0) state.burstBooked--;
      // Metrics: the time this call waited for ARM's budget (autopilot.arm.throttle_wait).
      if (sentAt - started > 0) this.listener.throttleWait?.(sentAt - started);
      return sentAt;
    } finally {
      state.waiting--;
      done();
    }
  }

  private async waitForTurn(
    ahead: Promise<void>,
    signal: AbortSignalLike | undefined,
    handOffAt: number | undefined,
    state: KeyState,
  ): Promise<void> {
    if (signal === undefined && handOffAt === undefined) return ahead;
    await new Promise<void>((resolve, reject) => {
      const timer =
        handOffAt !== undefined
          ? setTimeout(
              () => finish(new TurnPastHandOffError(this.expectedWaitMs(state, state.waiting, Date.now()))),
              Math.max(0, handOffAt - Date.now()),
            )
          : undefined;
      const onAbort = () => finish(new Error('aborted'), true);
      const finish = (error?: Error, aborted = false) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!error) return resolve();
        if (aborted) {
          const e = new Error('The wait for ARM budget was cut short by the remediation deadline.');
          e.name = 'AbortError';
          return reject(e);
        }
        reject(error);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      ahead.then(() => finish());
    });
  }

  /** Roughly when a call with `ahead` calls queued before it goes: what the burst allows at once, the rest at the app's share. */
  private expectedWaitMs(state: KeyState, ahead: number, now: number): number {
    const blocked = Math.max(0, state.blockedUntil - now);
    if (state.unmetered) return blocked;
    const burst = Math.max(0, this.level(state, now) - this.floor(state) - this.span(state));
    return Math.max(blocked, (Math.max(0, ahead + 1 - burst) / this.shareRate(state, now)) * 1000);
  }

  /**
   * How long the call at the head of the queue must still wait (0: send now). The refill goes on while
   * it waits, so the wait is when the pacing law, at the level the bucket will have by then, allows the
   * next call: the smallest x >= 0 with (x + a) * rate(L0 + R x) >= 1, where a is the time since this
   * instance's last call, L0 the level now and R the refill. rate(L) = R (L - F) / S makes that
   * R x^2 + (d + R a) x + a d - S / R >= 0 with d = L0 - F, whose discriminant (d - R a)^2 + 4 S is never
   * negative. Extrapolating the rate of this instant instead (1 / rate) turns a level just above the
   * floor into waits of minutes, and those waits into needless hand-offs.
   */
  private pacingWaitMs(state: KeyState, now: number): number {
    const blocked = state.blockedUntil - now;
    if (blocked > 0) return blocked;
    if (state.unmetered) return 0;
    const r = LIMITS[state.kind].refillPerSecond;
    // The level rises at the refill the others leave (g); the law sends at r (level - floor) / span.
    const g = this.netRefill(state, now);
    const floor = this.floor(state);
    const span = this.span(state);
    const d = this.level(state, now) - floor;
    const a = Math.max(0, now - state.lastRelease) / 1000;
    if (d > 0 && a * d * r >= span) return 0;
    const x = (-(d + g * a) + Math.sqrt((d - g * a) ** 2 + (4 * g * span) / r)) / (2 * g);
    return Math.max(1, x * 1000);
  }

  private observe(state: KeyState, response: PipelineResponse, sentAt: number): void {
    const names = HEADERS[state.kind];
    const own = headerNumber(response, names.own) ?? headerNumber(response, names.tenant);
    const global = headerNumber(response, names.global);
    if (own === undefined && global === undefined) {
      this.forget(state, sentAt);
      // Nothing meters these calls (not ARM, or its throttling is off): never pace them.
      if (!state.observation && response.status !== 429) state.unmetered = true;
      return;
    }
    state.unmetered = false;
    const level = Math.min(own ?? Infinity, global === undefined ? Infinity : global / GLOBAL_FACTOR);
    // Responses arrive out of order: only a call sent after the last observed one tells something newer.
    if (!state.observation || sentAt >= state.observation.sentAt) {
      state.observation = { level, at: Date.now(), sentAt };
      // Own calls sent up to this one are counted in the level now.
      const pending = state.sends.length;
      state.sends = state.sends.filter((t) => t > sentAt);
      this.measureOthers(state, level, sentAt, pending - state.sends.length);
    } else {
      this.forget(state, sentAt);
    }
  }

  /** A call whose response told nothing: stop counting it against the level after a while. */
  private forget(state: KeyState, sentAt: number): void {
    const i = state.sends.indexOf(sentAt);
    if (i >= 0) state.sends.splice(i, 1);
  }

  /** Holds the key's calls until Retry-After has passed; returns that wait. */
  private onThrottled(state: KeyState, retryAfter: string | undefined): number {
    this.throttled++;
    // A 429 without a usable wait (missing, or 0) still holds the calls for a second.
    const wait = retryAfterMs(retryAfter) || 1000;
    state.blockedUntil = Math.max(state.blockedUntil, Date.now() + wait);
    state.unmetered = false;
    return wait;
  }
}
