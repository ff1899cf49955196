import { METRIC_ATTRIBUTES } from '../../src/telemetry/names';

/**
 * The metric names and attributes src/telemetry exports to Application Insights `customMetrics`, and so
 * what the alerts and the workbook in infra/monitoring/ may query: read from the module that defines them.
 */
export const CONTRACT_METRICS: Readonly<Record<string, readonly string[]>> = METRIC_ATTRIBUTES;
