import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { ManagedIdentityCredential } from '@azure/identity';
import { AzureMonitorMetricExporter, AzureMonitorTraceExporter } from '@azure/monitor-opentelemetry-exporter';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Telemetry } from './telemetry';

/** Where telemetry goes: the app settings Application Insights documents for Functions. */
export interface TelemetrySettings {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING; unset: telemetry is off. */
  connectionString?: string;
  /**
   * APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD` (system-assigned identity) or
   * `Authorization=AAD;ClientId=<id>` (a user-assigned one): telemetry is sent with an Entra token of
   * that identity, which needs Monitoring Metrics Publisher on the component; the only way in once the
   * component's local (key) authentication is off, as infra/app/monitoring.bicep sets it.
   */
  authenticationString?: string;
  /** The cloud role name shown in Application Insights (WEBSITE_SITE_NAME in Azure). */
  serviceName?: string;
}

/**
 * The credential an authentication string names; undefined when it asks for none. Learn,
 * "Microsoft Entra authentication for Application Insights" (azure-monitor/app/azure-ad-authentication):
 * `Authorization=AAD` for the system-assigned identity, `;ClientId=` for a user-assigned one.
 */
export function credentialForAuthenticationString(value: string | undefined): TokenCredential | undefined {
  if (!value?.trim()) return undefined;
  const parts = new Map(
    value
      .split(';')
      .map((p) => p.split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k!.trim().toLowerCase(), v!.trim()]),
  );
  if (parts.get('authorization')?.toLowerCase() !== 'aad') return undefined;
  const clientId = parts.get('clientid');
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

/** Told of a failed export: which exporter (`metrics`, `traces`) or the ingestion call itself (`ingestion`). */
export type FailureReport = (signal: 'metrics' | 'traces' | 'ingestion', error: unknown) => void;

/** Reports the first failure (and only the first): telemetry trouble must not flood the logs. */
export function reportOnce(report: FailureReport): FailureReport {
  let reported = false;
  return (signal, error) => {
    if (reported) return;
    reported = true;
    report(signal, error);
  };
}

interface ExportResultLike {
  code: number;
  error?: Error;
}

/**
 * Watches the exporter's own calls to the ingestion endpoint. The exporter keeps telemetry it could
 * not send (a 401/403 while the identity lacks Monitoring Metrics Publisher, a 5xx, a network error)
 * on local disk and retries it later, reporting success to the SDK: without this, a component that
 * refuses every post would go unnoticed.
 */
function ingestionWatch(onFailure: FailureReport): PipelinePolicy {
  return {
    name: 'autopilotIngestionWatch',
    async sendRequest(request, next) {
      try {
        const response = await next(request);
        if (response.status >= 400) onFailure('ingestion', new Error(`the ingestion endpoint answered ${response.status}`));
        return response;
      } catch (e) {
        onFailure('ingestion', e);
        throw e;
      }
    },
  };
}

/** An exporter whose failures, thrown or reported, end in one log line and never reach the caller. */
function quiet<E extends PushMetricExporter | SpanExporter>(exporter: E, signal: 'metrics' | 'traces', onFailure: FailureReport): E {
  const exportBatch = exporter.export.bind(exporter) as (items: unknown, done: (r: ExportResultLike) => void) => void;
  (exporter as { export: unknown }).export = (items: unknown, done: (r: ExportResultLike) => void) => {
    try {
      exportBatch(items, (result) => {
        // ExportResultCode.FAILED is 1 (@opentelemetry/core).
        if (result.code !== 0) onFailure(signal, result.error ?? new Error('export failed'));
        done(result);
      });
    } catch (e) {
      onFailure(signal, e);
      done({ code: 1, error: e instanceof Error ? e : new Error(String(e)) });
    }
  };
  return exporter;
}

/**
 * Metrics and traces exported to Application Insights with the Azure Monitor exporter, as the
 * Functions docs give for Node.js workers (Learn, azure-functions/opentelemetry-howto: the worker
 * exports with `@azure/monitor-opentelemetry-exporter`, APPLICATIONINSIGHTS_CONNECTION_STRING names
 * the component). Off (no-op) without a connection string. Providers are the app's own, not global:
 * nothing else in the process is instrumented behind its back.
 */
export function azureMonitorTelemetry(
  settings: TelemetrySettings,
  onFailure: FailureReport,
  /**
   * The credential (default: the one the authentication string names); for a local ingestion endpoint
   * in tests, a CA to trust and where the exporter keeps what it could not send (default: under the
   * OS temp folder).
   */
  connection: { credential?: TokenCredential; ca?: string; storageDirectory?: string } = {},
): Telemetry {
  if (!settings.connectionString?.trim()) return Telemetry.disabled();
  const credential = connection.credential ?? credentialForAuthenticationString(settings.authenticationString);
  const options = {
    connectionString: settings.connectionString.trim(),
    ...(credential ? { credential } : {}),
    ...(connection.ca ? { tlsOptions: { ca: connection.ca } } : {}),
    ...(connection.storageDirectory ? { storageDirectory: connection.storageDirectory } : {}),
    additionalPolicies: [{ policy: ingestionWatch(onFailure), position: 'perCall' as const }],
  };
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName || 'identity-autopilot' });
  const meterProvider = new MeterProvider({
    resource,
    // The distro's interval (@azure/monitor-opentelemetry exports metrics every 60 s).
    readers: [
      new PeriodicExportingMetricReader({
        exporter: quiet(new AzureMonitorMetricExporter(options), 'metrics', onFailure),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(quiet(new AzureMonitorTraceExporter(options), 'traces', onFailure))],
  });
  return Telemetry.from(
    { meterProvider, tracerProvider },
    {
      flush: () => Promise.all([meterProvider.forceFlush(), tracerProvider.forceFlush()]).then(() => undefined),
      shutdown: () => Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]).then(() => undefined),
    },
  );
}
