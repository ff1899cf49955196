import { consoleSink, createLogger } from '../logging/logger';
import type { TelemetrySettings } from './azure-monitor';
import { Telemetry } from './telemetry';

export { ARM_TELEMETRY_POLICY, armTelemetryPolicy } from './arm-policy';
export type { TelemetrySettings } from './azure-monitor';
export { underInvocationTrace } from './invocation-trace';
export { ATTR, METRIC, SCOPE } from './names';
export { OutcomeMetrics } from './outcome-metrics';
export { type FindingFacts, type OutcomeFacts, Telemetry } from './telemetry';
export { TracedRemediator } from './traced-remediator';

let shared: Telemetry | undefined;

/**
 * The process's telemetry, built once from the first settings it is asked for: one exporter and one
 * export timer per process, however many times the app is composed. A failed export is logged once.
 * The exporter and the SDK are loaded only when a connection string asks for them: an app without
 * telemetry does not pay for them on its first invocation.
 */
export function processTelemetry(settings: TelemetrySettings): Telemetry {
  if (shared) return shared;
  if (!settings.connectionString?.trim()) return (shared = Telemetry.disabled());
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { azureMonitorTelemetry, reportOnce } = require('./azure-monitor') as typeof import('./azure-monitor');
  shared = azureMonitorTelemetry(
    settings,
    reportOnce((signal, error) =>
      createLogger(consoleSink, { component: 'telemetry' }).log('warn', 'telemetry.export-failed', {
        signal,
        detail: `${error instanceof Error ? error.message : String(error)}; telemetry keeps being collected, further failures are not logged`,
      }),
    ),
  );
  return shared;
}
