// Alerts for operators: poison-queue messages, dead-lettered or dropped events, failure rate above a
// threshold, and no compliance sweep finished in two schedule periods. Log search alerts query the
// Application Insights component (customMetrics written by src/telemetry, traces by the app and the
// Functions host); the Event Grid ones are metric alerts on the system topics. An action group that
// e-mails `alertEmail` is created only when an address is given; without one the alerts still fire
// and show in Azure Monitor > Alerts.

param location string
param tags { *: string } = {}

@description('Prefix of every alert rule name.')
param namePrefix string

@description('Resource id of the Application Insights component the app writes to.')
param applicationInsightsId string

@description('Event Grid system topics whose event subscription delivers to the app (one metric alert pair each).')
param eventGridSystemTopicIds string[]

@description('Name of the app\'s event subscription on those topics.')
param eventSubscriptionName string = 'identity-autopilot'

@description('The remediation queue (app setting AUTOPILOT_REMEDIATION_QUEUE); the host poisons into <name>-poison.')
@minLength(3)
@maxLength(56)
param remediationQueueName string = 'remediations'

@description('Alert when more than this percentage of remediations failed in 15 minutes.')
@minValue(1)
@maxValue(100)
param failureRatePercentThreshold int = 10

@description('...but only when at least this many remediations ran in those 15 minutes.')
@minValue(1)
param failureRateMinimumRemediations int = 5

@description('Hours between compliance sweeps (AUTOPILOT_SWEEP_SCHEDULE; default hourly). The alert fires when none finished in twice that.')
@allowed([
  1
  2
  3
  12
  24
])
param sweepPeriodHours int = 1

@description('E-mail address for alert notifications. Empty: no action group is created.')
param alertEmail string = ''

// Twice the sweep period, as an ISO 8601 window Azure Monitor offers for log search alerts (at most 2 days).
var sweepWindows = {
  '1': 'PT2H'
  '2': 'PT4H'
  '3': 'PT6H'
  '12': 'P1D'
  '24': 'P2D'
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'autopilot'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actionGroupIds = empty(alertEmail) ? [] : [actionGroup.id]

// Every log search alert: evaluated every 5 minutes over its window on the component, resolved
// automatically once the condition clears.
var logAlerts = [
  {
    name: 'poison-queue'
    displayName: 'identity-autopilot: messages moved to ${remediationQueueName}-poison'
    description: 'The Functions host gave up on remediation queue messages after maxDequeueCount attempts and moved them to ${remediationQueueName}-poison. Inspect them with `az storage message peek --queue-name ${remediationQueueName}-poison --auth-mode login`; re-run the resources with the HTTP API or the CLI.'
    severity: 2
    windowSize: 'PT15M'
    query: 'let poisonQueue = \'${remediationQueueName}-poison\';\n${loadTextContent('queries/poison-queue.kql')}'
    timeAggregation: 'Count'
    metricMeasureColumn: null
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'failure-rate'
    displayName: 'identity-autopilot: more than ${failureRatePercentThreshold}% of remediations failed'
    description: 'More than ${failureRatePercentThreshold}% of at least ${failureRateMinimumRemediations} remediations in 15 minutes ended failed (autopilot.remediations, outcome=failed). The workbook lists the failing resources; the remediation.outcome log lines carry the errors.'
    severity: 2
    windowSize: 'PT15M'
    query: 'let minimumRemediations = ${failureRateMinimumRemediations};\n${loadTextContent('queries/failure-rate.kql')}'
    timeAggregation: 'Maximum'
    metricMeasureColumn: 'failureRatePercent'
    operator: 'GreaterThan'
    threshold: failureRatePercentThreshold
  }
  {
    name: 'sweep-missing'
    displayName: 'identity-autopilot: no compliance sweep finished in ${2 * sweepPeriodHours} hours'
    description: 'No autopilot.sweep.completed was recorded in two sweep periods: the timer did not run, or every sweep failed before finishing (see the sweep.finished and sweep.* log lines).'
    severity: 3
    windowSize: sweepWindows[string(sweepPeriodHours)]
    query: loadTextContent('queries/sweep-missing.kql')
    timeAggregation: 'Count'
    metricMeasureColumn: null
    operator: 'LessThan'
    threshold: 1
  }
  {
    name: 'role-assignment-budget'
    displayName: 'identity-autopilot: a governed subscription holds 80% of its 4,000 role assignments'
    description: 'A sweep counted 3,200 or more role assignments in a governed subscription (autopilot.role_assignments); Azure allows 4,000 and the limit cannot be raised. Below AUTOPILOT_ROLE_ASSIGNMENT_RESERVE free slots new grants are blocked (RoleAssignmentBudget). The sweep report lists orphaned assignments; lifecycle.revoke: enforce removes those the product made.'
    severity: 2
    windowSize: sweepWindows[string(sweepPeriodHours)]
    query: loadTextContent('queries/role-assignment-budget.kql')
    timeAggregation: 'Maximum'
    metricMeasureColumn: 'assignments'
    operator: 'GreaterThanOrEqual'
    threshold: 3200
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in logAlerts: {
    name: '${namePrefix}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        applicationInsightsId
      ]
      evaluationFrequency: 'PT5M'
      windowSize: alert.windowSize
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.timeAggregation
            metricMeasureColumn: alert.metricMeasureColumn
            operator: alert.operator
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: actionGroupIds
      }
    }
  }
]

// Event Grid gave up on an event (DeadLetteredCount: written to the dead-letter container after 30
// attempts or 24 hours) or lost it (DroppedEventCount: no dead-letter destination reachable). Both are
// Total counts per event subscription (Learn: Azure Event Grid monitor data reference, push delivery).
// Dimension values are given in both spellings, since the portal shows event subscription names upper-cased.
var eventGridMetrics = [
  {
    name: 'dead-lettered'
    metricName: 'DeadLetteredCount'
    description: 'Events for the app were dead-lettered to the deadletter container: they were never handled. Read them there and re-run the resources with the HTTP API or the CLI.'
  }
  {
    name: 'dropped'
    metricName: 'DroppedEventCount'
    description: 'Event Grid dropped events for the app without dead-lettering them (the dead-letter destination was unreachable). The next compliance sweep finds the resources.'
  }
]

resource eventGridAlertRules 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for pair in flatten(map(range(0, length(eventGridSystemTopicIds)), i => map(eventGridMetrics, m => { topic: i, metric: m }))): {
    name: '${namePrefix}-${pair.metric.name}-${pair.topic}'
    location: 'global'
    tags: tags
    properties: {
      description: pair.metric.description
      severity: 2
      enabled: true
      scopes: [
        eventGridSystemTopicIds[pair.topic]
      ]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT15M'
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: pair.metric.metricName
            metricNamespace: 'Microsoft.EventGrid/systemTopics'
            metricName: pair.metric.metricName
            dimensions: [
              {
                name: 'EventSubscriptionName'
                operator: 'Include'
                values: union([eventSubscriptionName], [toUpper(eventSubscriptionName)])
              }
            ]
            operator: 'GreaterThan'
            threshold: 0
            timeAggregation: 'Total'
          }
        ]
      }
      autoMitigate: true
      actions: [for id in actionGroupIds: { actionGroupId: id }]
    }
  }
]

output logAlertRuleNames string[] = [for (alert, i) in logAlerts: logAlertRules[i].name]
output actionGroupId string = empty(alertEmail) ? '' : actionGroup.id
