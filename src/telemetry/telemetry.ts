import {
  type Attributes,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { canonicalResourceType } from '../arm/resource-types';
import { ATTR, METRIC, SCOPE } from './names';

/** What a remediation's metrics need of its outcome (RemediationOutcome satisfies it). */
export interface OutcomeFacts {
  resourceType?: string;
  status: string;
  deferral?: { reason: string };
  /** What a lifecycle path removed or kept (RemovalRecord satisfies it). */
  removed?: ReadonlyArray<{ kind: string; status: string }>;
}

/** What the sweep metrics need of a finding (SweepFinding satisfies it). */
export interface FindingFacts {
  resourceType: string;
  subscriptionId: string;
  problems: readonly string[];
}

/** Where the trigger's work began: an event's eventTime, a queue message's original event, a request's receipt. */
export type Since = string | number | undefined;

/** Upper bounds (ms) for event-to-done: a remediation takes seconds inline, minutes to an hour through hand-offs. */
const EVENT_TO_DONE_BUCKETS_MS = [
  250, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
];
/** Upper bounds (ms) for a request held back by throttling: ARM's Retry-After is seconds to a minute. */
const THROTTLE_WAIT_BUCKETS_MS = [10, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 120_000];

/**
 * A value ARM or a caller chose must not become a metric dimension of its own (every distinct
 * attribute value is a new time series): types outside the supported set are counted as `other`.
 */
export function resourceTypeAttribute(type: string | undefined): string {
  if (!type) return 'unknown';
  return canonicalResourceType(type) ?? 'other';
}

let contextManagerRegistered = false;
/** Spans nest (remediation > ARM call) through the active context, which needs a context manager: one per process. */
function registerContextManager(): void {
  if (contextManagerRegistered) return;
  contextManagerRegistered = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/**
 * The app's metrics and traces (names in names.ts). Built from OpenTelemetry providers: the Azure
 * Monitor ones in Azure (azure-monitor.ts), in-memory ones in tests, none at all (`disabled()`) when
 * no connection string is set. Recording never throws and never waits: telemetry must not be in the
 * way of a remediation.
 */
export class Telemetry {
  private readonly remediations: Counter;
  private readonly eventToDone: Histogram;
  private readonly armCalls: Counter;
  private readonly throttleWaits: Histogram;
  private readonly handOffs: Counter;
  private readonly findings: Counter;
  private readonly sweeps: Counter;
  private readonly roleAssignmentCounts: Histogram;
  private readonly secretlessOnKeys: Histogram;
  private readonly revocationGuards: Counter;
  private readonly removals: Counter;

  private constructor(
    meter: Meter,
    readonly tracer: Tracer,
    /** False when nothing is exported (no connection string). */
    readonly enabled: boolean,
    private readonly providers: { flush(): Promise<void>; shutdown(): Promise<void> } = {
      flush: async () => undefined,
      shutdown: async () => undefined,
    },
  ) {
    this.remediations = meter.createCounter(METRIC.remediations, {
      description: 'Remediation outcomes by resource type, trigger and outcome',
    });
    this.eventToDone = meter.createHistogram(METRIC.eventToDone, {
      description: "Time from the event's eventTime (or the request's receipt) to the remediation's outcome",
      unit: 'ms',
      advice: { explicitBucketBoundaries: EVENT_TO_DONE_BUCKETS_MS },
    });
    this.armCalls = meter.createCounter(METRIC.armCalls, {
      description: 'ARM request attempts, retries included, by method and status code',
    });
    this.throttleWaits = meter.createHistogram(METRIC.armThrottleWait, {
      description: 'Time an ARM request was held back because ARM throttled the app (Retry-After, the shared 429 gate)',
      unit: 'ms',
      advice: { explicitBucketBoundaries: THROTTLE_WAIT_BUCKETS_MS },
    });
    this.handOffs = meter.createCounter(METRIC.queueHandOffs, { description: 'Remediations handed to the remediation queue, by reason' });
    this.findings = meter.createCounter(METRIC.sweepFindings, {
      description: 'Non-compliant findings of compliance sweeps, one per problem, by kind, resource type and subscription',
    });
    this.sweeps = meter.createCounter(METRIC.sweepCompleted, { description: 'Compliance sweeps that ran to the end' });
    this.roleAssignmentCounts = meter.createHistogram(METRIC.roleAssignments, {
      description: "A governed subscription's role assignments as a sweep counted them (Azure's limit: 4,000)",
    });
    this.secretlessOnKeys = meter.createHistogram(METRIC.secretlessOnKeys, {
      description: 'Dapr components that still authenticate with a key or connection string, as a sweep counted them',
    });
    this.revocationGuards = meter.createCounter(METRIC.revocationGuard, {
      description: 'Sweeps the mass-revocation guard stopped: nothing was revoked until a person confirms',
    });
    this.removals = meter.createCounter(METRIC.removals, {
      description:
        'Objects a lifecycle path looked at to remove (role assignments, identities, credentials), by kind and what became of each',
    });
  }

  /** From SDK providers (Azure Monitor's, or a test's in-memory ones). */
  static from(
    providers: { meterProvider: MeterProvider; tracerProvider: TracerProvider },
    /** Flush and shut down the SDK providers (export what is buffered, stop the export timer). */
    lifecycle?: { flush(): Promise<void>; shutdown(): Promise<void> },
  ): Telemetry {
    registerContextManager();
    return new Telemetry(providers.meterProvider.getMeter(SCOPE), providers.tracerProvider.getTracer(SCOPE), true, lifecycle);
  }

  /** Records nothing: no connection string, or a CLI run. */
  static disabled(): Telemetry {
    return new Telemetry(createNoopMeter(), new ProxyTracerProvider().getTracer(SCOPE), false);
  }

  /** Exports what is buffered (a CLI run before it exits); never rejects. */
  async flush(): Promise<void> {
    await this.providers.flush().catch(() => undefined);
  }

  /** Exports what is buffered and stops exporting; never rejects. */
  async shutdown(): Promise<void> {
    await this.providers.shutdown().catch(() => undefined);
  }

  /**
   * One remediation outcome of a trigger. A deferred outcome is a hand-off (counted, with its reason),
   * not the end: its event-to-done is recorded by the delivery that finishes it.
   */
  remediationOutcome(outcome: OutcomeFacts, trigger: string, since: Since): void {
    const attributes: Attributes = {
      [ATTR.resourceType]: resourceTypeAttribute(outcome.resourceType),
      [ATTR.trigger]: trigger,
      [ATTR.outcome]: outcome.status,
    };
    this.remediations.add(1, attributes);
    // Counted with their outcome, so a removal is as visible as a grant (kinds and statuses are fixed lists).
    for (const r of outcome.removed ?? []) this.removals.add(1, { [ATTR.kind]: r.kind, [ATTR.outcome]: r.status });
    if (outcome.status === 'deferred') {
      this.handOffs.add(1, { [ATTR.reason]: outcome.deferral?.reason ?? 'unknown' });
      return;
    }
    const elapsed = elapsedSince(since);
    if (elapsed !== undefined) this.eventToDone.record(elapsed, attributes);
  }

  armCall(method: string, status: number | undefined): void {
    // 0: no response at all (connection refused, reset, aborted).
    this.armCalls.add(1, { [ATTR.httpMethod]: method.toUpperCase(), [ATTR.httpStatusCode]: status ?? 0 });
  }

  throttleWait(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.throttleWaits.record(ms);
  }

  /** A page of sweep findings: one count per problem of each finding. */
  sweepFindings(findings: readonly FindingFacts[]): void {
    for (const f of findings) {
      const attributes = {
        [ATTR.resourceType]: resourceTypeAttribute(f.resourceType),
        [ATTR.subscription]: f.subscriptionId.toLowerCase(),
      };
      for (const kind of f.problems) this.findings.add(1, { ...attributes, [ATTR.kind]: kind });
    }
  }

  sweepCompleted(): void {
    this.sweeps.add(1);
  }

  roleAssignmentCount(subscriptionId: string, assignments: number): void {
    this.roleAssignmentCounts.record(assignments, { [ATTR.subscription]: subscriptionId.toLowerCase() });
  }

  /** Once per sweep with a secretless section: how many Dapr components still use a key. */
  secretlessComponentsOnKeys(count: number): void {
    this.secretlessOnKeys.record(count);
  }

  revocationGuardTripped(): void {
    this.revocationGuards.add(1);
  }

  /**
   * Runs `work` inside a span that is the active one (ARM call spans nest under it); `end` adds what
   * is known once it is done. A thrown error marks the span and is rethrown unchanged.
   */
  async inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>, end?: (span: Span, result: T) => void): Promise<T> {
    return this.tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        const result = await work();
        end?.(span, result);
        return result;
      } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.name : 'error' });
        throw e;
      } finally {
        span.end();
      }
    });
  }
}

/** Milliseconds since an ISO time or epoch ms; undefined when unknown or unreadable, 0 when in the future (clock skew). */
export function elapsedSince(since: Since, now = Date.now()): number | undefined {
  const start = typeof since === 'number' ? since : since ? Date.parse(since) : NaN;
  if (!Number.isFinite(start)) return undefined;
  return Math.max(0, now - start);
}
