/**
 * The metric and attribute names the app emits: the contract with the alerts and the workbook in
 * infra/ (Application Insights stores each metric in `customMetrics` under this name, its attributes
 * in `customDimensions`). Changing a name here breaks those queries; docs/operations.md lists them.
 */
export const METRIC = {
  /** Counter: one per remediation outcome recorded (resource.type, trigger, outcome). */
  remediations: 'autopilot.remediations',
  /** Histogram, ms: from the event's eventTime (or the request's receipt) to the outcome (resource.type, trigger, outcome). */
  eventToDone: 'autopilot.event_to_done',
  /** Counter: every ARM request attempt, retries included (http.method, http.status_code). */
  armCalls: 'autopilot.arm.calls',
  /** Histogram, ms: time an ARM request was held back because ARM throttled the app. */
  armThrottleWait: 'autopilot.arm.throttle_wait',
  /** Counter: remediations handed to the remediation queue (reason). */
  queueHandOffs: 'autopilot.queue.handoffs',
  /** Counter: non-compliant findings of a sweep, one per problem (kind, resource.type, subscription). */
  sweepFindings: 'autopilot.sweep.findings',
  /** Counter: objects a lifecycle path looked at to remove, by what became of each (kind, outcome: removed, absent, kept, failed). */
  removals: 'autopilot.removals',
  /** Counter: sweeps that ran to the end. */
  sweepCompleted: 'autopilot.sweep.completed',
  /**
   * Histogram: a governed subscription's role assignments, one value per sweep (subscription). Azure allows
   * 4,000 and the limit cannot be raised; infra/monitoring/alerts.bicep alerts at 80 %.
   */
  roleAssignments: 'autopilot.role_assignments',
  /** Counter: sweeps the mass-revocation guard stopped (nothing was revoked; a person must confirm). */
  revocationGuard: 'autopilot.revocation_guard',
  /** Histogram: Dapr components still authenticating with a key or connection string, one value per sweep (secretless, issue 25). */
  secretlessOnKeys: 'autopilot.secretless.components_on_keys',
} as const;

export const ATTR = {
  resourceType: 'resource.type',
  trigger: 'trigger',
  outcome: 'outcome',
  httpMethod: 'http.method',
  httpStatusCode: 'http.status_code',
  reason: 'reason',
  kind: 'kind',
  subscription: 'subscription',
  resourceId: 'azure.resource_id',
  correlationId: 'correlation.id',
} as const;

/** The instrumentation scope (meter and tracer name). */
export const SCOPE = 'identity-autopilot';

/** Each metric's attributes: what the alerts and the workbook in infra/monitoring/ may query (test/infra/monitoring.test.ts). */
export const METRIC_ATTRIBUTES: Readonly<Record<(typeof METRIC)[keyof typeof METRIC], readonly string[]>> = {
  [METRIC.remediations]: [ATTR.resourceType, ATTR.trigger, ATTR.outcome],
  [METRIC.eventToDone]: [ATTR.resourceType, ATTR.trigger, ATTR.outcome],
  [METRIC.armCalls]: [ATTR.httpMethod, ATTR.httpStatusCode],
  [METRIC.armThrottleWait]: [],
  [METRIC.queueHandOffs]: [ATTR.reason],
  [METRIC.sweepFindings]: [ATTR.kind, ATTR.resourceType, ATTR.subscription],
  [METRIC.removals]: [ATTR.kind, ATTR.outcome],
  [METRIC.sweepCompleted]: [],
  [METRIC.roleAssignments]: [ATTR.subscription],
  [METRIC.revocationGuard]: [],
  [METRIC.secretlessOnKeys]: [],
};
