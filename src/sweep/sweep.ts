import { randomUUID } from 'node:crypto';
import type { StructuredLogger } from '../logging/logger';
import type { RoleResolver, RulesConfig } from '../config';
import { AutopilotError } from '../errors';
import { assessPage, type ComplianceProblem } from './compliance';
import { governedResourcesQuery } from './queries';
import type { RemediationQueuePort } from './remediation-queue';
import { FINDINGS_KEPT_IN_MEMORY, newSweepId, type ReportStore, type SweepFailure, type SweepFinding, type SweepReport, type SweepTotals } from './report';
import { type GraphQueryPort, ResourceGraphReader } from './resource-graph';
import type { Telemetry } from '../telemetry/telemetry';

/** What a sweep needs beyond the rules: Resource Graph, the remediation queue and the report store. */
export interface SweepPorts {
  graph: GraphQueryPort;
  /** Undefined when no Storage is configured: only report-only sweeps can run. */
  queue?: RemediationQueuePort;
  reports: ReportStore;
}

/** The part of the composed app a sweep uses (`Autopilot` satisfies it). */
export interface SweepHost {
  readonly rules: RulesConfig;
  readonly ports: { roles: RoleResolver };
  readonly sweep: SweepPorts;
  /** Findings and finished sweeps are counted here (`autopilot.sweep.*`), when given. */
  readonly telemetry?: Pick<Telemetry, 'sweepFindings' | 'sweepCompleted'>;
}

export interface SweepOptions {
  /** Find and report drift, queue nothing (the CLI's `sweep --report-only`). Report rules never queue anyway. */
  reportOnly?: boolean;
  log?: StructuredLogger;
  sweepId?: string;
  signal?: AbortSignal;
  /** Parallel queue sends per page. */
  sendConcurrency?: number;
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(workers);
}

const MAX_FAILURES_KEPT = 200;

/**
 * One compliance sweep: streams the governed resources from Resource Graph page by page, decides
 * each with the engine's planner and the principals' grants, queues every non-compliant resource
 * under an enforce rule for the queue trigger, reports the rest, and writes the report to blob storage.
 */
export async function runSweep(host: SweepHost, options: SweepOptions = {}): Promise<SweepReport> {
  const reportOnly = options.reportOnly ?? false;
  const { queue, reports, graph } = host.sweep;
  if (!reportOnly && !queue) {
    throw new AutopilotError('RemediationQueueNotConfigured', 'no Storage connection for the remediation queue (AzureWebJobsStorage); run a report-only sweep or configure it');
  }
  const sweepId = options.sweepId ?? newSweepId();
  const started = new Date();
  const log = options.log?.child({ sweepId });
  const subscriptions = [...host.rules.scope.subscriptions];
  const reader = new ResourceGraphReader(graph, {
    signal: options.signal,
    onWait: (ms, why) => log?.log('info', 'sweep.resource-graph.wait', { reason: why, waitMs: ms }),
  });
  const totals: SweepTotals = { scanned: 0, compliant: 0, nonCompliant: 0, queued: 0, reported: 0, failed: 0, skipped: {} };
  const problems: Partial<Record<ComplianceProblem, number>> = {};
  const kept: SweepFinding[] = [];
  const failures: SweepFailure[] = [];
  const fail = (f: SweepFailure) => {
    totals.failed++;
    if (failures.length < MAX_FAILURES_KEPT) failures.push(f);
  };
  log?.log('info', 'sweep.started', { subscriptions, reportOnly, queue: queue?.name });
  const writer = await reports.begin(sweepId, started);

  for await (const rows of reader.pages(governedResourcesQuery(host.rules.scope), subscriptions)) {
    totals.scanned += rows.length;
    const assessed = await assessPage(rows, { rules: host.rules, roles: host.ports.roles, readRows: (q) => reader.pages(q, subscriptions) });
    const pageFindings: SweepFinding[] = [];
    for (const a of assessed) {
      if (a.kind === 'compliant') totals.compliant++;
      else if (a.kind === 'skipped') totals.skipped[a.reason] = (totals.skipped[a.reason] ?? 0) + 1;
      else if (a.kind === 'invalid') fail({ resourceId: a.resourceId, code: a.code, detail: a.detail });
      else {
        totals.nonCompliant++;
        for (const p of a.finding.problems) problems[p] = (problems[p] ?? 0) + 1;
        pageFindings.push({ ...a.finding, action: reportOnly || a.finding.mode === 'report' ? 'reported' : 'queued' });
      }
    }
    await forEachLimited(
      pageFindings.filter((f) => f.action === 'queued'),
      options.sendConcurrency ?? 16,
      async (f) => {
        try {
          await queue!.send({ version: 1, resourceId: f.resourceId, correlationId: randomUUID(), sweepId, rule: f.rule, problems: f.problems });
        } catch (e) {
          f.action = 'failed';
          f.error = e instanceof Error ? e.message : String(e);
        }
      },
    );
    for (const f of pageFindings) {
      if (f.action === 'queued') totals.queued++;
      else if (f.action === 'reported') totals.reported++;
      else fail({ resourceId: f.resourceId, code: 'QueueSendFailed', detail: f.error ?? '' });
    }
    await writer.addFindings(pageFindings);
    host.telemetry?.sweepFindings(pageFindings);
    for (const f of pageFindings) if (kept.length < FINDINGS_KEPT_IN_MEMORY) kept.push(f);
    log?.log('debug', 'sweep.page', { rows: rows.length, findings: pageFindings.length });
  }

  const finished = new Date();
  const report: SweepReport = {
    sweepId,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    reportOnly,
    subscriptions,
    queue: reportOnly ? undefined : queue?.name,
    totals,
    problems,
    resourceGraph: { ...reader.stats },
    findings: kept,
    findingsTruncated: totals.nonCompliant > kept.length,
    failures,
  };
  report.stored = await writer.finish(report);
  host.telemetry?.sweepCompleted();
  log?.log(totals.failed > 0 ? 'warn' : 'info', 'sweep.finished', {
    scanned: totals.scanned,
    compliant: totals.compliant,
    fixed: totals.queued,
    reported: totals.reported,
    failed: totals.failed,
    skipped: totals.skipped,
    problems,
    resourceGraphCalls: reader.stats.calls,
    durationMs: report.durationMs,
    report: report.stored,
  });
  return report;
}
