/**
 * The metric names and attributes of the telemetry contract (helper brief, issue 15 round): what
 * src/telemetry exports to Application Insights `customMetrics`, and so what the alerts and the workbook
 * in infra/monitoring/ may query.
 *
 * RECONCILE AT MERGE: this is a stand-in written before src/telemetry landed; once it has, import the
 * names from there instead and delete this file.
 */
export const CONTRACT_METRICS: Readonly<Record<string, readonly string[]>> = {
  'autopilot.remediations': ['resource.type', 'trigger', 'outcome'],
  'autopilot.event_to_done': ['resource.type', 'trigger', 'outcome'],
  'autopilot.arm.calls': ['http.method', 'http.status_code'],
  'autopilot.arm.throttle_wait': [],
  'autopilot.queue.handoffs': ['reason'],
  'autopilot.sweep.findings': ['kind', 'resource.type', 'subscription'],
  'autopilot.sweep.completed': [],
};
