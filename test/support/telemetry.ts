import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Telemetry } from '../../src/telemetry';

export interface Point<V> {
  attributes: Attributes;
  value: V;
}

/**
 * The app's Telemetry over the OpenTelemetry SDK's in-memory exporters: what Application Insights
 * would receive, readable by tests. Cumulative, so each read gives the totals so far.
 */
export function inMemoryTelemetry() {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exported only when a test asks (forceFlush), never on a timer.
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const telemetry = Telemetry.from({ meterProvider, tracerProvider });

  async function points<V>(name: string): Promise<Point<V>[]> {
    metrics.reset();
    await meterProvider.forceFlush();
    const exported = metrics.getMetrics().at(-1);
    const metric = exported?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((p: DataPoint<unknown>) => ({ attributes: p.attributes, value: p.value as V }));
  }

  return {
    telemetry,
    /** Data points of a counter: attributes and count. */
    counter: (name: string) => points<number>(name),
    /** Data points of a histogram: attributes and count/sum/min/max. */
    histogram: (name: string) => points<Histogram>(name),
    /** Metric names exported so far (instruments with at least one data point). */
    async names(): Promise<string[]> {
      metrics.reset();
      await meterProvider.forceFlush();
      return (metrics.getMetrics().at(-1)?.scopeMetrics ?? []).flatMap((s) =>
        s.metrics.filter((m) => m.dataPoints.length > 0).map((m) => m.descriptor.name),
      );
    },
    spans: (): ReadableSpan[] => spans.getFinishedSpans(),
    async shutdown(): Promise<void> {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The sum of a counter's points whose attributes include `match`. */
export function total(points: Point<number>[], match: Attributes = {}): number {
  return points.filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + p.value, 0);
}
