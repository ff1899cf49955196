import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { SweepStorage } from '../settings/settings';
import { markdownText } from '../text/safe-text';
import type { ComplianceFinding, ComplianceProblem } from './compliance';
import { HTML_TREND_POINTS, parseSweepSummary, renderHtmlReport, type SweepSummary, summaryOf } from './html-report';
import { actionText, findingReasons, reasonLine, remedyLine, resultCounts } from './report-text';
import type { ForeignOrphan, SweepRevocation } from './revocations';
import type { SecretlessSection } from './secretless';
import { secretlessMarkdown } from './secretless-report';

export type FindingAction = 'queued' | 'reported' | 'blocked' | 'failed' | 'fixed' | 'pending' | 'not-applied';

/** Why a finding is not fixed (or what stopped its fix), and what a person can do: an outcome's blocker or error. */
export interface FindingReason {
  code: string;
  detail: string;
  remedy?: string;
}

export interface SweepFinding extends ComplianceFinding {
  /**
   * queued: enforce rule, sent to the queue; reported: report rule or a report-only sweep; blocked: its
   * last remediation ended blocked and neither it nor the rules changed since (blocked-resources.ts),
   * so not queued again; failed: could not be queued. The CLI, which fixes what it found itself, turns
   * `queued` into its remediation's result (fix-results.ts): fixed, blocked, pending, failed, or not-applied
   * (a disruptive fix without confirmation).
   */
  action: FindingAction;
  /** Set when blocked: the ledger's blocker (code, remedy) and since when the resource and rules are unchanged. */
  blocked?: { code: string; detail: string; remedy?: string; since: string };
  /** Set when the finding is not fixed: each blocker or error of its outcome (or the ledger's blocker), with its remedy. */
  reasons?: FindingReason[];
  error?: string;
}

/** A resource left alone on purpose (opted out by tag, or exempted by the rules), listed by name in every report. */
export interface SkippedResource {
  resourceId: string;
  reason: string;
  detail: string;
}

/** The skip reasons listed by name; the others (no-matching-rule, platform-managed...) stay counts. */
export const NAMED_SKIP_REASONS: ReadonlySet<string> = new Set(['opted-out', 'exempted']);
/** Skipped resources kept by name; the counts in totals.skipped stay exact beyond it. */
export const SKIPPED_KEPT_IN_MEMORY = 5000;

export interface SweepFailure {
  resourceId: string;
  code: string;
  detail: string;
}

export interface SweepTotals {
  /** Rows Resource Graph returned for the governed types and resource groups. */
  scanned: number;
  compliant: number;
  nonCompliant: number;
  /** Sent to the remediation queue (the queue trigger fixes them). */
  queued: number;
  /** Fixed by the CLI's own remediation (the timer sweep fixes nothing itself: its fixes are `queued`). */
  fixed: number;
  /** Fixed in Azure but not in use yet (scale-set instances on the old model): the CLI's `pending` outcomes. */
  pending: number;
  /** Disruptive fixes the CLI did not apply without confirmation. */
  notApplied: number;
  /** Non-compliant under a report rule (or a report-only sweep): reported, never queued. */
  reported: number;
  /**
   * Non-compliant, last remediation blocked, unchanged since it was queued: not queued again (blocked-resources.ts);
   * in the CLI, also the fixes it tried that ended blocked.
   */
  blocked: number;
  /** Rules that cannot be applied to the resource, or a message that could not be queued. */
  failed: number;
  /** Resources out of the rules' reach, by reason (opted-out, no-matching-rule, ...). */
  skipped: Record<string, number>;
}

/** Decided resources of one type or subscription (skipped and failed ones are not counted). */
export interface ComplianceCount {
  compliant: number;
  nonCompliant: number;
}

/** Compliance by resource type and by subscription: bounded by the rules' scope, not by the estate. */
export interface ComplianceBreakdown {
  byType: Record<string, ComplianceCount>;
  bySubscription: Record<string, ComplianceCount>;
}

export interface SweepReport {
  sweepId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  reportOnly: boolean;
  subscriptions: string[];
  queue?: string;
  totals: SweepTotals;
  problems: Partial<Record<ComplianceProblem, number>>;
  compliance: ComplianceBreakdown;
  resourceGraph: { calls: number; quotaWaits: number; quotaWaitedMs: number; resumed?: number };
  /** The first findings (all of them in the stored report); see findingsTruncated. */
  findings: SweepFinding[];
  findingsTruncated: boolean;
  failures: SweepFailure[];
  /** Opted-out and exempted resources by name (the first SKIPPED_KEPT_IN_MEMORY); totals.skipped counts all. */
  skippedResources: SkippedResource[];
  /** Subscription display names by lower-case id, when the sweep knows them (reports show the name, else the id). */
  subscriptionNames?: Record<string, string>;
  /** Owned grants the rules no longer give, orphans, and what was done with them (absent: the app's identity was unknown). */
  revocations?: RevocationReport;
  /** Role assignments per governed subscription (the budget; Azure's limit is 4,000). */
  roleAssignments?: Record<string, number>;
  /** Dapr components still on keys and targets' readiness to turn keys off (issue 25; absent: no rule has a `dapr` section). */
  secretless?: SecretlessSection;
  /** Where the full report was written. */
  stored?: StoredReport;
}

/** Revocation and orphan collection in one sweep (see src/sweep/revocations.ts). */
export interface RevocationReport {
  excess: number;
  orphans: number;
  /** Assignments of principals proven gone that the app did not make: listed, never deleted. */
  foreignOrphans: number;
  removed: number;
  /** Set when the mass-revocation guard stopped the run: nothing was removed. */
  guard?: { code: 'MassRevocationGuard'; detail: string; count: number; limit: number };
  /** Every excess grant and owned orphan, with its status. */
  items: SweepRevocation[];
  foreign: ForeignOrphan[];
}

/** Findings kept in memory for the returned report; the stored JSON has every one. */
export const FINDINGS_KEPT_IN_MEMORY = 1000;

/** The report's blobs: the full JSON, the Markdown, the HTML a person opens, and the summary later trends read. */
export interface StoredReport {
  json: string;
  markdown: string;
  html: string;
  summary: string;
}

/** Receives findings page by page during the scan, then the summary. */
export interface ReportWriter {
  addFindings(findings: readonly SweepFinding[]): Promise<void>;
  finish(report: SweepReport): Promise<StoredReport>;
}

export interface ReportStore {
  begin(sweepId: string, startedAt: Date): Promise<ReportWriter>;
  /** Summaries of the latest earlier sweeps (oldest first), for the HTML report's trend. */
  history(limit?: number): Promise<SweepSummary[]>;
}

/** A table row; every text cell is escaped: resource ids, scopes and details quote what resource creators chose. */
const line = (cells: Array<string | number>) =>
  `| ${cells.map((c) => (typeof c === 'number' ? String(c) : markdownText(c))).join(' | ')} |`;
const align = (cells: string[]) => `| ${cells.join(' | ')} |`;

export function renderMarkdown(report: SweepReport, maxRows = 50): string {
  const t = report.totals;
  const out = [
    `# Compliance sweep ${markdownText(report.sweepId)}`,
    '',
    `${report.startedAt} → ${report.finishedAt} (${(report.durationMs / 1000).toFixed(1)} s), ${report.subscriptions.length} subscription(s)${report.reportOnly ? ', report only' : ''}.`,
    '',
    line(['scanned', 'compliant', 'non-compliant', ...resultCounts(t).map(([label]) => label), 'skipped']),
    align(['---:', '---:', '---:', ...resultCounts(t).map(() => '---:'), '---:']),
    line([
      t.scanned,
      t.compliant,
      t.nonCompliant,
      ...resultCounts(t).map(([, n]) => n),
      Object.values(t.skipped).reduce((a, b) => a + b, 0),
    ]),
    '',
  ];
  const skipped = Object.entries(t.skipped);
  if (skipped.length > 0)
    out.push('## Skipped', '', line(['reason', 'resources']), align(['---', '---:']), ...skipped.map(([r, n]) => line([r, n])), '');
  const named = report.skippedResources ?? [];
  if (named.length > 0)
    out.push(
      '## Opted out and exempted',
      '',
      line(['resource', 'reason', 'detail']),
      align(['---', '---', '---']),
      ...named.slice(0, maxRows).map((s) => line([s.resourceId, s.reason, s.detail])),
      ...(named.length > maxRows ? ['', `… and ${named.length - maxRows} more in the JSON report.`] : []),
      '',
    );
  const problems = Object.entries(report.problems);
  if (problems.length > 0)
    out.push(
      '## Problems found',
      '',
      line(['problem', 'resources']),
      align(['---', '---:']),
      ...problems.map(([p, n]) => line([p, n ?? 0])),
      '',
    );
  if (report.findings.length > 0) {
    out.push(
      '## Non-compliant resources',
      '',
      line(['resource', 'rule', 'problems', 'missing roles', 'result', 'reason', 'remedy']),
      align(['---', '---', '---', '---', '---', '---', '---']),
    );
    for (const f of report.findings.slice(0, maxRows)) {
      const reasons = findingReasons(f);
      out.push(
        line([
          f.resourceId,
          f.rule,
          f.problems.join(', '),
          f.missingRoleAssignments.map((m) => `${m.role} @ ${m.scope}`).join('; ') || '—',
          actionText(f),
          reasonLine(reasons) || '—',
          remedyLine(reasons) || '—',
        ]),
      );
    }
    if (t.nonCompliant > maxRows) out.push('', `… and ${t.nonCompliant - maxRows} more in the JSON report.`);
    out.push('');
  }
  if (report.failures.length > 0) {
    out.push(
      '## Failures',
      '',
      line(['resource', 'code', 'detail']),
      align(['---', '---', '---']),
      ...report.failures.slice(0, maxRows).map((f) => line([f.resourceId, f.code, f.detail])),
      '',
    );
  }
  if (report.secretless) out.push(...secretlessMarkdown(report.secretless));
  out.push(`Resource Graph: ${report.resourceGraph.calls} call(s), ${report.resourceGraph.quotaWaits} quota wait(s).`, '');
  return out.join('\n');
}

/** The JSON report with `findings` replaced by the streamed list: `{...summary, "findings": [` + items + `]}`. */
function jsonHead(report: SweepReport): string {
  const { findings: _f, ...summary } = report;
  return `${JSON.stringify(summary).slice(0, -1)},"findings":[`;
}

function blobPrefix(sweepId: string, startedAt: Date): string {
  return `${startedAt.toISOString().slice(0, 10).replace(/-/g, '/')}/${startedAt.toISOString().slice(11, 19).replace(/:/g, '')}-${sweepId}`;
}

/**
 * Compliance reports in blob storage (`AUTOPILOT_REPORT_CONTAINER`): `yyyy/mm/dd/hhmmss-<sweep>.json`
 * and `.md`. The JSON is a block blob whose findings are staged page by page during the scan, so the
 * full report never sits in memory.
 */
export class BlobReportStore implements ReportStore {
  private created?: Promise<unknown>;

  constructor(readonly container: ContainerClient) {}

  async begin(sweepId: string, startedAt: Date): Promise<ReportWriter> {
    this.created ??= this.container.createIfNotExists().catch((e) => {
      this.created = undefined;
      throw e;
    });
    await this.created;
    const prefix = blobPrefix(sweepId, startedAt);
    const json = this.container.getBlockBlobClient(`${prefix}.json`);
    const markdown = this.container.getBlockBlobClient(`${prefix}.md`);
    const html = this.container.getBlockBlobClient(`${prefix}.html`);
    const summary = this.container.getBlockBlobClient(`${prefix}${SUMMARY_SUFFIX}`);
    const blockIds: string[] = [];
    let count = 0;
    const blockId = () => Buffer.from(`${sweepId}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
    const stage = async (text: string) => {
      const id = blockId();
      blockIds.push(id);
      const data = Buffer.from(text, 'utf8');
      await json.stageBlock(id, data, data.length);
    };
    await stage(''); // placeholder position for the head, restaged at the end
    return {
      addFindings: async (findings) => {
        if (findings.length === 0) return;
        const text = findings.map((f, i) => `${count + i === 0 ? '' : ','}${JSON.stringify(f)}`).join('');
        count += findings.length;
        await stage(text);
      },
      finish: async (report) => {
        const head = Buffer.from(jsonHead(report), 'utf8');
        await json.stageBlock(blockIds[0]!, head, head.length);
        await stage(']}');
        await json.commitBlockList(blockIds, { blobHTTPHeaders: { blobContentType: 'application/json' } });
        const md = renderMarkdown(report);
        await markdown.upload(md, Buffer.byteLength(md), { blobHTTPHeaders: { blobContentType: 'text/markdown; charset=utf-8' } });
        const page = renderHtmlReport(report, await this.history());
        await html.upload(page, Buffer.byteLength(page), { blobHTTPHeaders: { blobContentType: 'text/html; charset=utf-8' } });
        // Written last: a summary names a sweep whose reports are all in place.
        const s = JSON.stringify(summaryOf(report));
        await summary.upload(s, Buffer.byteLength(s), { blobHTTPHeaders: { blobContentType: 'application/json' } });
        return { json: json.url, markdown: markdown.url, html: html.url, summary: summary.url };
      },
    };
  }

  /**
   * The latest summaries, from this month's and last month's folders (blob names sort by time), so
   * the listing stays bounded however long the container has been collecting reports.
   */
  async history(limit = HTML_TREND_POINTS, now = new Date()): Promise<SweepSummary[]> {
    await (this.created ??= this.container.createIfNotExists());
    const month = (d: Date) => `${d.toISOString().slice(0, 7).replace('-', '/')}/`;
    const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const names: string[] = [];
    for (const prefix of [month(previous), month(now)]) {
      for await (const blob of this.container.listBlobsFlat({ prefix })) if (blob.name.endsWith(SUMMARY_SUFFIX)) names.push(blob.name);
    }
    const latest = names.sort().slice(-limit);
    const out: SweepSummary[] = [];
    for (const name of latest) {
      try {
        const blob = this.container.getBlockBlobClient(name);
        if (((await blob.getProperties()).contentLength ?? 0) > MAX_SUMMARY_BYTES) continue;
        const body = await blob.downloadToBuffer();
        const parsed = parseSweepSummary(JSON.parse(body.toString('utf8')));
        if (parsed) out.push(parsed);
      } catch {
        // A summary that is unreadable or too large is left out of the trend, not a reason to lose the report.
      }
    }
    return out;
  }
}

const SUMMARY_SUFFIX = '.summary.json';
/** A summary with a breakdown over 10,000 subscriptions stays well under this. */
const MAX_SUMMARY_BYTES = 4 * 1024 * 1024;

/** Reports kept in memory (sandbox without Storage, benchmarks, CLI report-only without Storage). */
export class InMemoryReportStore implements ReportStore {
  readonly reports: Array<{ json: string; markdown: string; html: string; summary: SweepSummary }> = [];
  /** Keep only the counts when true (benchmarks: memory must stay flat). */
  constructor(private readonly options: { discardFindings?: boolean } = {}) {}

  async begin(sweepId: string, startedAt: Date): Promise<ReportWriter> {
    const parts: string[] = [];
    return {
      addFindings: async (findings) => {
        if (this.options.discardFindings) return;
        for (const f of findings) parts.push(JSON.stringify(f));
      },
      finish: async (report) => {
        const json = `${jsonHead(report)}${parts.join(',')}]}`;
        const markdown = renderMarkdown(report);
        const html = renderHtmlReport(report, await this.history());
        this.reports.push({ json, markdown, html, summary: summaryOf(report) });
        const name = `memory://${blobPrefix(sweepId, startedAt)}`;
        return { json: `${name}.json`, markdown: `${name}.md`, html: `${name}.html`, summary: `${name}${SUMMARY_SUFFIX}` };
      },
    };
  }

  async history(limit = HTML_TREND_POINTS): Promise<SweepSummary[]> {
    return this.reports.slice(-limit).map((r) => r.summary);
  }
}

export function reportContainerClient(storage: SweepStorage, container: string, credential: TokenCredential): ContainerClient | undefined {
  if (storage.kind === 'connection-string')
    return BlobServiceClient.fromConnectionString(storage.connectionString).getContainerClient(container);
  if (storage.kind === 'identity' && storage.blobServiceUrl)
    return new BlobServiceClient(storage.blobServiceUrl, credential).getContainerClient(container);
  return undefined;
}

export const newSweepId = (): string => randomUUID();
