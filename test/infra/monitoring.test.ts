/**
 * The alerts and the operations workbook (infra/monitoring/) query only what the app writes: every
 * query passes Microsoft's KQL analyzer against the Application Insights schema, names only metrics and
 * attributes of the telemetry contract, and reads only log events the code emits. The Bicep wires every
 * query file, the alerts docs/operations.md lists, and the action group only when an e-mail is given.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RemediationOutcome } from '../../src/engine/types';
import { createLogger } from '../../src/logging/logger';
import { summarizeOutcome } from '../../src/outcomes/summary';
import { appInsightsQueryDiagnostics } from './app-insights-kql';
import { CONTRACT_METRICS } from './telemetry-contract';

const REPO = join(__dirname, '..', '..');
const MONITORING = join(REPO, 'infra', 'monitoring');
const read = (path: string) => readFileSync(join(MONITORING, path), 'utf8');
const alertsBicep = read('alerts.bicep');
const workbook = JSON.parse(read('operations.workbook.json'));

/** Every text under src/, to check that a log event a query reads is one the code writes. */
function sourceText(dir = join(REPO, 'src')): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? sourceText(join(dir, e.name)) : e.name.endsWith('.ts') ? readFileSync(join(dir, e.name), 'utf8') : ''))
    .join('\n');
}
const SOURCE = sourceText();

/** The query text of each alert as alerts.bicep builds it: the `let` it prepends (with a sample value), then the file. */
function alertQueries(): Array<{ file: string; query: string }> {
  const files = readdirSync(join(MONITORING, 'queries')).filter((f) => f.endsWith('.kql'));
  return files.map((file) => {
    const use = new RegExp(
      `query: (?:'(let \\w+ = [^;]*;)\\\\n)?(?:\\$\\{)?loadTextContent\\('queries/${file.replace('.', '\\.')}'\\)`,
    ).exec(alertsBicep);
    assert.ok(use, `alerts.bicep does not load queries/${file}`);
    const prefix = use[1]
      ? `${use[1].replace(/\$\{[^}]+\}/g, (m) => (m.includes('remediationQueueName') ? 'remediations' : '5')).replace(/\\'/g, "'")}\n`
      : '';
    return { file, query: prefix + read(join('queries', file)) };
  });
}

function workbookQueries(): Array<{ name: string; query: string; title: string }> {
  return workbook.items
    .filter((i: any) => i.type === 3)
    .map((i: any) => ({ name: i.name, query: i.content.query, title: i.content.title }));
}

/** Checks one query against the contract; returns the metrics it reads. */
function checkQuery(label: string, query: string): string[] {
  assert.deepEqual(appInsightsQueryDiagnostics(query), [], `${label}: KQL diagnostics`);
  const named = [...query.matchAll(/\bname\s*==\s*"([^"]+)"/g)].map((m) => m[1]!);
  const mentioned = [...query.matchAll(/autopilot\.[a-z_.]+[a-z_]/g)].map((m) => m[0]);
  for (const metric of [...named, ...mentioned]) assert.ok(metric in CONTRACT_METRICS, `${label}: unknown metric ${metric}`);
  if (/^\s*customMetrics\b/m.test(query)) assert.ok(named.length > 0, `${label}: a customMetrics query must filter by metric name`);
  const attributes = new Set(named.flatMap((m) => CONTRACT_METRICS[m] ?? []));
  for (const [, key] of query.matchAll(/customDimensions\["([^"]+)"\]/g)) {
    assert.ok(attributes.has(key!), `${label}: attribute ${key} is not one of ${named.join(', ')}'s (${[...attributes].join(', ')})`);
  }
  // Log records are JSON lines `{"event": "<name>", ...}` (src/logging/logger.ts): the event must be one the code logs.
  for (const [, event] of query.matchAll(/record\.event\)\s*==\s*"([^"]+)"/g)) {
    assert.ok(SOURCE.includes(`'${event}'`), `${label}: no code logs the event ${event}`);
  }
  return named;
}

describe('alerts (infra/monitoring/alerts.bicep)', () => {
  it('every alert query passes the KQL analyzer and reads only contract metrics', () => {
    const read = new Set(alertQueries().flatMap(({ file, query }) => checkQuery(file, query)));
    assert.deepEqual([...read].sort(), ['autopilot.remediations', 'autopilot.role_assignments', 'autopilot.sweep.completed']);
  });

  it('the analyzer check is real: a misspelt column or table is reported', () => {
    assert.notDeepEqual(appInsightsQueryDiagnostics('customMetrics | where nmae == "autopilot.remediations"'), []);
    assert.notDeepEqual(appInsightsQueryDiagnostics('customMetric | take 1'), []);
    assert.throws(
      () => checkQuery('probe', 'customMetrics | where name == "autopilot.remediation"'),
      /unknown metric autopilot\.remediation/,
    );
    assert.throws(
      () =>
        checkQuery('probe', 'customMetrics | where name == "autopilot.sweep.completed" | extend k = tostring(customDimensions["kind"])'),
      /attribute kind/,
    );
  });

  it('the failure rate divides failed by every outcome and the sweep alert counts completions', () => {
    const failure = read('queries/failure-rate.kql');
    assert.match(failure, /sumif\(valueSum, outcome == "failed"\)/);
    assert.match(alertsBicep, /metricMeasureColumn: 'failureRatePercent'/);
    assert.match(alertsBicep, /threshold: failureRatePercentThreshold/);
    // No sweep in two periods: a window of twice the period, fired when fewer than one row is found.
    assert.match(alertsBicep, /'1': 'PT2H'/);
    assert.match(alertsBicep, /'24': 'P2D'/);
    assert.match(
      alertsBicep,
      /query: loadTextContent\('queries\/sweep-missing\.kql'\)\s*timeAggregation: 'Count'\s*metricMeasureColumn: null\s*operator: 'LessThan'\s*threshold: 1/,
    );
  });

  it("the poison-queue alert matches the host's own log line for <queue>-poison", () => {
    const [poison] = alertQueries().filter((q) => q.file === 'poison-queue.kql');
    assert.match(poison!.query, /^let poisonQueue = 'remediations-poison';/);
    assert.match(poison!.query, /startswith "Message has reached MaxDequeueCount"/);
  });

  it('dead-lettered and dropped events alert on the Event Grid system topic metrics', () => {
    assert.match(alertsBicep, /metricNamespace: 'Microsoft\.EventGrid\/systemTopics'/);
    assert.match(alertsBicep, /metricName: 'DeadLetteredCount'/);
    assert.match(alertsBicep, /metricName: 'DroppedEventCount'/);
    assert.match(alertsBicep, /timeAggregation: 'Total'/);
  });

  it('the e-mail action group exists only when an address is given, and every alert uses it', () => {
    assert.match(alertsBicep, /resource actionGroup 'Microsoft\.Insights\/actionGroups@[\d-]+' = if \(!empty\(alertEmail\)\)/);
    assert.match(alertsBicep, /var actionGroupIds = empty\(alertEmail\) \? \[\] : \[actionGroup\.id\]/);
    assert.match(alertsBicep, /actionGroups: actionGroupIds/);
    assert.match(alertsBicep, /actions: \[for id in actionGroupIds: \{ actionGroupId: id \}\]/);
  });
});

describe('operations workbook (infra/monitoring/operations.workbook.json)', () => {
  it('is a Notebook/1.0 workbook for an Application Insights component, with a time range every query uses', () => {
    assert.equal(workbook.version, 'Notebook/1.0');
    const parameters = workbook.items.find((i: any) => i.type === 9);
    assert.equal(parameters.content.parameters[0].name, 'TimeRange');
    for (const item of workbook.items.filter((i: any) => i.type === 3)) {
      assert.equal(item.content.version, 'KqlItem/1.0');
      assert.equal(item.content.resourceType, 'microsoft.insights/components', item.name);
      assert.equal(item.content.timeContextFromParameter, 'TimeRange', item.name);
    }
    assert.deepEqual(workbook.fallbackResourceIds, ['{applicationInsightsId}']);
    assert.match(
      read('workbook.bicep'),
      /replace\(loadTextContent\('operations\.workbook\.json'\), '\{applicationInsightsId\}', applicationInsightsId\)/,
    );
  });

  it('every query passes the KQL analyzer and names only contract metrics and attributes', () => {
    const metrics = new Set(workbookQueries().flatMap(({ name, query }) => checkQuery(name, query)));
    // The sections issue 15 asks for: latency percentiles, outcomes over time, compliance from the sweeps.
    for (const m of ['autopilot.event_to_done', 'autopilot.remediations', 'autopilot.sweep.findings']) assert.ok(metrics.has(m), m);
  });

  it('has latency percentiles, outcomes over time, top failing resources and compliance by type and subscription', () => {
    const byName = new Map(workbookQueries().map((q) => [q.name, q.query]));
    assert.match(byName.get('latency-percentiles')!, /percentilew\(meanMs, valueCount, 95\)/);
    assert.match(byName.get('outcomes-over-time')!, /by outcome, bin\(timestamp/);
    assert.match(byName.get('top-failing-resources')!, /tostring\(record\.status\) == "failed"[\s\S]*top 20 by failures/);
    assert.match(byName.get('compliance-by-type-and-subscription')!, /by resourceType, subscription/);
  });

  it('top failing resources reads the remediation.outcome line exactly as the app logs it', () => {
    const query = workbookQueries().find((q) => q.name === 'top-failing-resources')!.query;
    const lines: string[] = [];
    const log = createLogger((_level, line) => lines.push(line));
    const failed = {
      status: 'failed',
      resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/web',
      resourceType: 'Microsoft.Web/sites',
      errors: [{ code: 'AuthorizationFailed', message: 'no', transient: false }],
    };
    log.log('error', 'remediation.outcome', summarizeOutcome(failed as unknown as RemediationOutcome));
    const line = lines[0]!;
    // The filter's literal, unescaped from KQL, is in the line; the fields it reads are there.
    const literal = /message contains "((?:[^"\\]|\\.)*)"/.exec(query)![1]!.replace(/\\"/g, '"');
    assert.ok(line.startsWith('{') && line.includes(literal), `${literal} in ${line}`);
    const record = JSON.parse(line);
    assert.equal(record.event, 'remediation.outcome');
    assert.equal(record.status, 'failed');
    assert.equal(record.resourceId, failed.resourceId);
    assert.equal(record.resourceType, 'Microsoft.Web/sites');
    assert.equal(record.errors[0].code, 'AuthorizationFailed');
    for (const field of ['record.event', 'record.status', 'record.resourceId', 'record.resourceType', 'record.errors[0].code'])
      assert.ok(query.includes(field), field);
  });
});
