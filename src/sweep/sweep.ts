import { randomUUID } from 'node:crypto';
import { tryParseArmId } from '../arm/resource-id';
import { hasManagementGroups, lifecycleOf, type RoleResolver, type RulesConfig } from '../config';
import type { EnginePorts } from '../engine/ports';
import { massRevocationGuard } from '../engine/revocation';
import { AutopilotError } from '../errors';
import type { StructuredLogger } from '../logging/logger';
import type { OutcomeRecorder } from '../outcomes/recorder';
import type { Telemetry } from '../telemetry/telemetry';
import { BlockedGate, type SweepLedger } from './blocked-resources';
import { assessPage, type ComplianceProblem, type DaprSweepPorts, type RowSource } from './compliance';
import { governedResourcesQuery } from './queries';
import type { RemediationQueuePort } from './remediation-queue';
import {
  type ComplianceBreakdown,
  FINDINGS_KEPT_IN_MEMORY,
  NAMED_SKIP_REASONS,
  newSweepId,
  type ReportStore,
  type RevocationReport,
  SKIPPED_KEPT_IN_MEMORY,
  type SkippedResource,
  type SweepFailure,
  type SweepFinding,
  type SweepReport,
  type SweepTotals,
} from './report';
import { type GraphQueryPort, ResourceGraphReader } from './resource-graph';
import { OwnedGrants, removalOutcomes, removeRevocations, type SweepRevocation } from './revocations';
import { ROLE_ASSIGNMENT_COUNT_QUERY } from './role-assignment-budget';
import { sweepSecretless } from './secretless';
import { migrateOptedIn } from './secretless-migration';

/** What a sweep needs beyond the rules: Resource Graph, the remediation queue and the report store. */
export interface SweepPorts {
  graph: GraphQueryPort;
  /** Undefined when no Storage is configured: only report-only sweeps can run. */
  queue?: RemediationQueuePort;
  reports: ReportStore;
}

/** The governed subscriptions under management groups (the engine's GovernedSubscriptions). */
export interface SweepGovernance {
  resolved(signal: AbortSignal): Promise<RulesConfig>;
  underManagementGroups(signal: AbortSignal): Promise<ReadonlySet<string>>;
}

/** The part of the composed app a sweep uses (`Autopilot` satisfies it). */
export interface SweepHost {
  readonly rules: RulesConfig;
  readonly ports: { roles: RoleResolver } & DaprSweepPorts &
    Partial<Pick<EnginePorts, 'resources' | 'roleAssignments' | 'roleAssignmentBudget'>>;
  /** Where the sweep's removals are recorded (ledger, outcome events, metrics), one outcome per workload. */
  readonly outcomes?: OutcomeRecorder;
  /** Who the app is: the grants ARM records as created by it are the ones revocation judges (absent: none are). */
  self?(): Promise<{ principalId?: string; clientId?: string }>;
  readonly sweep: SweepPorts;
  /** Required when the rules name `scope.managementGroups`. */
  readonly governance?: SweepGovernance;
  /** Findings and finished sweeps are counted here (`autopilot.sweep.*`), when given. */
  readonly telemetry?: Pick<Telemetry, 'sweepFindings' | 'sweepCompleted'> &
    Partial<Pick<Telemetry, 'roleAssignmentCount' | 'revocationGuardTripped' | 'secretlessComponentsOnKeys'>>;
  /** The ledger: a resource whose last remediation ended blocked, unchanged since, is not queued again (blocked-resources.ts). */
  readonly ledger?: SweepLedger;
  /** The time the sweep judges rules-file exemptions at (expired ones no longer apply); default: the real time. */
  readonly clock?: () => Date;
}

export interface SweepOptions {
  /** Find and report drift, queue nothing (the CLI's `sweep --report-only`). Report rules never queue anyway. */
  reportOnly?: boolean;
  log?: StructuredLogger;
  sweepId?: string;
  signal?: AbortSignal;
  /** Parallel queue sends per page. */
  sendConcurrency?: number;
  /** After each Resource Graph page of governed resources (the CLI's progress bar). */
  onProgress?: (progress: SweepProgress) => void;
  /** 'report': remove no grant even where the rules say lifecycle.revoke: enforce (the timer's AUTOPILOT_REVOCATION_MODE). */
  revocationMode?: 'report' | 'enforce';
  /** Confirms a run over the mass-revocation guard (the CLI's `--yes`, the timer's AUTOPILOT_CONFIRM_MASS_REVOCATION). */
  confirmRevocations?: boolean;
  /** Asked before any removal with what would be removed (the CLI's az-style prompt); false: nothing is removed. */
  confirm?: (revocations: readonly SweepRevocation[]) => Promise<boolean>;
  /** Who runs the sweep, as the ledger records its removals (default `timer`). */
  trigger?: 'timer' | 'cli';
  /** Trusted scopes whose targets' keys only scanned Dapr components use (secretless readiness; see src/engine/secretless.ts). */
  soleConsumerScopes?: readonly string[];
}

export interface SweepProgress {
  pages: number;
  /** Resources scanned so far. */
  scanned: number;
  /** Resource Graph's `totalRecords` for the subscription batches begun so far: an estimate, since resources come and go. */
  totalEstimate?: number;
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(workers);
}

const MAX_FAILURES_KEPT = 200;

/** Counts one decided resource under its type and subscription (from its id, canonical type spelling of the row). */
function countCompliance(breakdown: ComplianceBreakdown, resourceId: string, type: string | undefined, compliant: boolean): void {
  const id = tryParseArmId(resourceId);
  const keys: Array<[Record<string, { compliant: number; nonCompliant: number }>, string]> = [
    [breakdown.byType, type ?? id?.type ?? 'unknown'],
    [breakdown.bySubscription, (id?.subscriptionId ?? 'unknown').toLowerCase()],
  ];
  for (const [map, k] of keys) {
    const c = (map[k] ??= { compliant: 0, nonCompliant: 0 });
    if (compliant) c.compliant++;
    else c.nonCompliant++;
  }
}

type Assessed = Awaited<ReturnType<typeof assessPage>>[number];

/** What a sweep has counted and kept so far: the report's numbers, filled page by page. */
class SweepTally {
  readonly totals: SweepTotals = {
    scanned: 0,
    compliant: 0,
    nonCompliant: 0,
    queued: 0,
    fixed: 0,
    pending: 0,
    notApplied: 0,
    reported: 0,
    blocked: 0,
    failed: 0,
    skipped: {},
  };
  readonly problems: Partial<Record<ComplianceProblem, number>> = {};
  readonly compliance: ComplianceBreakdown = { byType: {}, bySubscription: {} };
  readonly kept: SweepFinding[] = [];
  readonly failures: SweepFailure[] = [];
  readonly skippedResources: SkippedResource[] = [];
  /** Display names of the subscriptions seen, from the rows' `subscriptionName` (queries.ts), for the reports. */
  readonly subscriptionNames: Record<string, string> = {};

  /** Counts a page's rows and notes their subscriptions' display names. */
  scanned(rows: ReadonlyArray<Record<string, unknown>>): void {
    this.totals.scanned += rows.length;
    for (const { subscriptionId: id, subscriptionName: name } of rows)
      if (typeof id === 'string' && typeof name === 'string' && name !== '') this.subscriptionNames[id.toLowerCase()] = name;
  }

  /** Counts a skip; an opted-out or exempted resource is also kept by name (a person chose to leave it alone: reports say who). */
  private skip(resourceId: string, reason: string, detail: string): void {
    this.totals.skipped[reason] = (this.totals.skipped[reason] ?? 0) + 1;
    if (NAMED_SKIP_REASONS.has(reason) && this.skippedResources.length < SKIPPED_KEPT_IN_MEMORY)
      this.skippedResources.push({ resourceId, reason, detail });
  }

  fail(f: SweepFailure): void {
    this.totals.failed++;
    if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push(f);
  }

  /** Counts one page's decisions; returns its findings, each marked queued or reported. */
  assessed(page: readonly Assessed[], reportOnly: boolean): SweepFinding[] {
    const findings: SweepFinding[] = [];
    for (const a of page) {
      if (a.kind === 'compliant') {
        this.totals.compliant++;
        countCompliance(this.compliance, a.resourceId, a.resourceType, true);
      } else if (a.kind === 'skipped') this.skip(a.resourceId, a.reason, a.detail);
      else if (a.kind === 'invalid') this.fail({ resourceId: a.resourceId, code: a.code, detail: a.detail });
      else {
        this.totals.nonCompliant++;
        countCompliance(this.compliance, a.finding.resourceId, a.finding.resourceType, false);
        for (const p of a.finding.problems) this.problems[p] = (this.problems[p] ?? 0) + 1;
        // Only an excess grant: the sweep itself revokes it (or reports it); a remediation would add nothing.
        const onlyExcess = a.finding.problems.every((p) => p === 'excess-grants');
        findings.push({ ...a.finding, action: reportOnly || a.finding.mode === 'report' || onlyExcess ? 'reported' : 'queued' });
      }
    }
    return findings;
  }

  /** Counts a page's findings once their queue sends are done, and keeps the first ones for the report. */
  settled(findings: readonly SweepFinding[]): void {
    for (const f of findings) {
      if (f.action === 'queued') this.totals.queued++;
      else if (f.action === 'reported') this.totals.reported++;
      else if (f.action === 'blocked') this.totals.blocked++;
      else this.fail({ resourceId: f.resourceId, code: 'QueueSendFailed', detail: f.error ?? '' });
      if (this.kept.length < FINDINGS_KEPT_IN_MEMORY) this.kept.push(f);
    }
  }
}

/** The rules a sweep reads under, with the subscriptions read on their own and the management groups read whole. */
interface SweepScope {
  rules: RulesConfig;
  subscriptions: string[];
  listed: string[];
  managementGroups: string[];
}

/**
 * Under management groups: the subscriptions governed now (ARM's answer, cached by the engine), and
 * Resource Graph reads each group with the management-group scope. A listed subscription that is
 * also under a listed group is read once, through the group.
 */
async function resolveSweepScope(host: SweepHost, signal: AbortSignal | undefined): Promise<SweepScope> {
  const managementGroups = [...(host.rules.scope.managementGroups ?? [])];
  if (managementGroups.length > 0 && !host.governance) {
    throw new AutopilotError(
      'ManagementGroupsNotSupported',
      'the rules name scope.managementGroups but this sweep has no management group resolution',
    );
  }
  const resolveSignal = signal ?? AbortSignal.timeout(60_000);
  const rules = hasManagementGroups(host.rules) ? await host.governance!.resolved(resolveSignal) : host.rules;
  const underGroups = hasManagementGroups(host.rules) ? await host.governance!.underManagementGroups(resolveSignal) : new Set<string>();
  const listed = host.rules.scope.subscriptions.filter((s) => !underGroups.has(s.toLowerCase()));
  return { rules, subscriptions: [...rules.scope.subscriptions], listed, managementGroups };
}

/**
 * Queues the findings marked `queued`, but those the gate holds back as blocked and unchanged; a failed
 * send marks its finding `failed` with the error. The gate remembers what each sent one looked like.
 */
async function queueFindings(
  queue: RemediationQueuePort | undefined,
  findings: SweepFinding[],
  sweepId: string,
  concurrency: number,
  gate: BlockedGate | undefined,
): Promise<void> {
  await forEachLimited(
    findings.filter((f) => f.action === 'queued'),
    concurrency,
    async (f) => {
      await gate?.hold(f);
      if (f.action !== 'queued') return;
      // Taken before the send: the remediation it starts begins after this time.
      const queuedAt = new Date();
      try {
        await queue!.send({
          version: 1,
          resourceId: f.resourceId,
          correlationId: randomUUID(),
          sweepId,
          rule: f.rule,
          problems: f.problems,
        });
      } catch (e) {
        f.action = 'failed';
        f.error = e instanceof Error ? e.message : String(e);
        f.reasons = [{ code: 'QueueSendFailed', detail: f.error }];
        return;
      }
      await gate?.remember(f, queuedAt);
    },
  );
}

function logFinished(log: StructuredLogger | undefined, report: SweepReport): void {
  const { totals } = report;
  log?.log(totals.failed > 0 ? 'warn' : 'info', 'sweep.finished', {
    scanned: totals.scanned,
    compliant: totals.compliant,
    queued: totals.queued,
    reported: totals.reported,
    blocked: totals.blocked,
    failed: totals.failed,
    skipped: totals.skipped,
    problems: report.problems,
    resourceGraphCalls: report.resourceGraph.calls,
    durationMs: report.durationMs,
    report: report.stored,
  });
}

/**
 * The role-assignment budget's count for each governed subscription, as a metric (alert at 80 % of
 * 4,000 in infra/monitoring/alerts.bicep) and in the report. A count that cannot be read is logged, not fatal.
 */
/** The reads after the scan: each subscription's role-assignment count, and the secretless section (issue 25). */
async function closingReads(
  host: SweepHost,
  reader: ResourceGraphReader,
  scope: { rules: RulesConfig; subscriptions: readonly string[]; rowsOf: RowSource },
  options: SweepOptions & { log?: StructuredLogger },
): Promise<Pick<SweepReport, 'roleAssignments' | 'secretless'>> {
  const roleAssignments = await countRoleAssignments(host, reader, scope.subscriptions, options.log);
  const secretless = await sweepSecretless(host, scope.rules, scope.rowsOf, options);
  // A report-only sweep writes nothing. The timer: the rules that opt in to secretless.migrate are the
  // confirmation. The CLI writes with the user's own rights during its scan, before it asks about its
  // fixes, so it migrates only when `--yes` answered every question up front (issue 24 D15).
  const consented = (options.trigger ?? 'timer') === 'timer' || options.confirmRevocations === true;
  if (secretless && !options.reportOnly && consented) {
    const migrations = await migrateOptedIn(host, scope.rules, secretless, { ...options, trigger: options.trigger ?? 'timer' });
    if (migrations.length > 0) secretless.migrations = migrations;
  }
  return { ...(roleAssignments ? { roleAssignments } : {}), ...(secretless ? { secretless } : {}) };
}

async function countRoleAssignments(
  host: SweepHost,
  reader: ResourceGraphReader,
  subscriptions: readonly string[],
  log: StructuredLogger | undefined,
): Promise<Record<string, number> | undefined> {
  const port = host.ports.roleAssignmentBudget;
  if (!port) return undefined;
  const counts: Record<string, number> = {};
  for (const s of subscriptions) {
    try {
      // Through the sweep's reader: it waits for Resource Graph's per-user quota, which the scan has just
      // used up (15 queries per 5 s); the port's own query would be throttled and the count lost.
      let assignments: number;
      if (port.record) {
        const page = await reader.query({ query: ROLE_ASSIGNMENT_COUNT_QUERY, subscriptions: [s], top: 1 });
        assignments = page.totalRecords ?? page.rows.length;
        port.record(s, assignments);
      } else assignments = (await port.usage(s, { signal: AbortSignal.timeout(60_000) })).assignments;
      counts[s.toLowerCase()] = assignments;
      host.telemetry?.roleAssignmentCount?.(s, counts[s.toLowerCase()]!);
    } catch (e) {
      log?.log('warn', 'sweep.role-assignment-count.failed', { subscriptionId: s, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return counts;
}

/** The app's object and client ids: ARM's createdBy holds one of them on what the app made (none known: nothing is judged ours). */
async function appIdsOf(host: SweepHost, log: StructuredLogger | undefined): Promise<string[]> {
  if (!host.self) return [];
  try {
    const self = await host.self();
    return [self.principalId, self.clientId].filter((v): v is string => !!v).map((v) => v.toLowerCase());
  } catch (e) {
    log?.log('warn', 'sweep.self-unknown', {
      detail: 'owned grants are not judged in this sweep',
      error: e instanceof Error ? e.message : String(e),
    });
    return [];
  }
}

/**
 * After the last page: the owned grants of workloads no page planned (orphans included), then the
 * mass-revocation guard, the confirmation and, for grants under `lifecycle.revoke: enforce`, removal
 * through the engine's removals (each re-proven ours by ARM right before its DELETE).
 */
async function collectRevocations(
  host: SweepHost,
  rules: RulesConfig,
  owned: OwnedGrants,
  excess: SweepRevocation[],
  rowsOf: RowSource,
  options: SweepOptions & { reportOnly: boolean; sweepId: string; now: Date },
): Promise<RevocationReport> {
  const { sweepId, now } = options;
  const signal = options.signal ?? AbortSignal.timeout(10 * 60_000);
  const left = await owned.leftovers(rules, host.ports.resources!, rowsOf, signal, now);
  const items = [...excess, ...left.revocations];
  const enforce = options.reportOnly || options.revocationMode === 'report' ? [] : items.filter((i) => i.revoke === 'enforce');
  const limit = lifecycleOf(rules).maxRevocations;
  const guard = massRevocationGuard(enforce.length, limit, options.confirmRevocations === true);
  const report: RevocationReport = {
    excess: items.filter((i) => i.kind === 'excess').length,
    orphans: items.filter((i) => i.kind === 'orphan').length,
    foreignOrphans: left.foreignOrphans.length,
    removed: 0,
    items,
    foreign: left.foreignOrphans,
  };
  if (!guard.allowed) {
    for (const i of enforce) i.status = 'held';
    options.log?.log('error', 'sweep.revocation-guard', { code: guard.code, detail: guard.detail, count: enforce.length, limit });
    host.telemetry?.revocationGuardTripped?.();
    return { ...report, guard: { code: guard.code, detail: guard.detail, count: enforce.length, limit } };
  }
  if (enforce.length === 0) return report;
  if (options.confirm && !(await options.confirm(enforce))) {
    for (const i of enforce) i.status = 'held';
    return report;
  }
  const records = await removeRevocations(enforce, host.ports as EnginePorts, signal);
  for (const outcome of removalOutcomes(enforce, records, sweepId))
    await host.outcomes?.record(outcome, { trigger: options.trigger ?? 'timer' });
  options.log?.log('info', 'sweep.revoked', { removed: enforce.filter((i) => i.status === 'removed').length, candidates: enforce.length });
  return { ...report, removed: enforce.filter((i) => i.status === 'removed').length };
}

/** The sweep's report from its tally, once the last page and the closing reads are done. */
function reportOf(
  tally: SweepTally,
  parts: Pick<
    SweepReport,
    'sweepId' | 'reportOnly' | 'subscriptions' | 'queue' | 'resourceGraph' | 'revocations' | 'roleAssignments' | 'secretless'
  > & {
    started: Date;
  },
): SweepReport {
  const { started, sweepId, reportOnly, subscriptions, queue, resourceGraph, ...closing } = parts;
  const finished = new Date();
  // The order of the report's keys as stored before the split (the JSON blob and its readers).
  return {
    sweepId,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    reportOnly,
    subscriptions,
    queue,
    totals: tally.totals,
    problems: tally.problems,
    compliance: tally.compliance,
    resourceGraph,
    findings: tally.kept,
    findingsTruncated: tally.totals.nonCompliant > tally.kept.length,
    failures: tally.failures,
    skippedResources: tally.skippedResources,
    ...(Object.keys(tally.subscriptionNames).length > 0 && { subscriptionNames: tally.subscriptionNames }),
    ...closing,
  };
}

/**
 * One compliance sweep: streams the governed resources from Resource Graph page by page, decides
 * each with the engine's planner and the principals' grants, queues every non-compliant resource
 * under an enforce rule for the queue trigger, reports the rest, and writes the report to blob storage.
 */
export async function runSweep(host: SweepHost, options: SweepOptions = {}): Promise<SweepReport> {
  const reportOnly = options.reportOnly ?? false;
  const { queue, reports, graph } = host.sweep;
  if (!reportOnly && !queue) {
    throw new AutopilotError(
      'RemediationQueueNotConfigured',
      'no Storage connection for the remediation queue (AzureWebJobsStorage); run a report-only sweep or configure it',
    );
  }
  const sweepId = options.sweepId ?? newSweepId();
  const started = new Date();
  // One instant for the whole sweep's exemptions: one expiring mid-sweep does not split the estate.
  const now = host.clock?.() ?? started;
  const log = options.log?.child({ sweepId });
  const { rules, subscriptions, listed, managementGroups } = await resolveSweepScope(host, options.signal);
  const reader = new ResourceGraphReader(graph, {
    signal: options.signal,
    onWait: (ms, why) => log?.log('info', 'sweep.resource-graph.wait', { reason: why, waitMs: ms }),
  });
  const tally = new SweepTally();
  const gate = host.ledger && !reportOnly ? new BlockedGate(host.ledger, host.rules, sweepId, log) : undefined;
  log?.log('info', 'sweep.started', { subscriptions, reportOnly, queue: queue?.name });
  const rowsOf = (q: string) => reader.pages(q, listed, managementGroups);
  const appIds = await appIdsOf(host, log);
  const owned = appIds.length > 0 ? await OwnedGrants.read(rowsOf, appIds) : undefined;
  const revocations: SweepRevocation[] = [];
  const writer = await reports.begin(sweepId, started);

  let pages = 0;
  let totalEstimate: number | undefined;
  for await (const rows of reader.pages(
    governedResourcesQuery(rules.scope),
    listed,
    managementGroups,
    (t) => (totalEstimate = (totalEstimate ?? 0) + t),
  )) {
    tally.scanned(rows);
    pages++;
    const assessed = await assessPage(rows, {
      rules,
      now,
      roles: host.ports.roles,
      readRows: rowsOf,
      ports: host.ports,
      owned,
    });
    for (const a of assessed) {
      if (a.kind === 'skipped') owned?.skipped(a.resourceId, a.reason);
      if (a.kind === 'non-compliant') revocations.push(...(a.finding.excessGrants ?? []));
    }
    const pageFindings = tally.assessed(assessed, reportOnly);
    gate?.saw(rows);
    await queueFindings(queue, pageFindings, sweepId, options.sendConcurrency ?? 16, gate);
    tally.settled(pageFindings);
    await writer.addFindings(pageFindings);
    host.telemetry?.sweepFindings(pageFindings);
    log?.log('debug', 'sweep.page', { rows: rows.length, findings: pageFindings.length });
    options.onProgress?.({ pages, scanned: tally.totals.scanned, totalEstimate });
  }

  const collected =
    owned && host.ports.resources
      ? await collectRevocations(host, rules, owned, revocations, rowsOf, { ...options, reportOnly, log, sweepId, now })
      : undefined;
  const closing = await closingReads(host, reader, { rules, subscriptions, rowsOf }, { ...options, log });
  const report = reportOf(tally, {
    sweepId,
    started,
    reportOnly,
    subscriptions,
    queue: reportOnly ? undefined : queue?.name,
    resourceGraph: { ...reader.stats },
    ...(collected ? { revocations: collected } : {}),
    ...closing,
  });
  report.stored = await writer.finish(report);
  host.telemetry?.sweepCompleted();
  logFinished(log, report);
  return report;
}
