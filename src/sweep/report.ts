import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { SweepStorage } from '../settings/settings';
import type { ComplianceFinding, ComplianceProblem } from './compliance';
import { markdownText } from '../text/safe-text';

export type FindingAction = 'queued' | 'reported' | 'failed';

export interface SweepFinding extends ComplianceFinding {
  /** queued: enforce rule, sent to the queue; reported: report rule or a report-only sweep; failed: could not be queued. */
  action: FindingAction;
  error?: string;
}

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
  /** Non-compliant under a report rule (or a report-only sweep): reported, never queued. */
  reported: number;
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
  resourceGraph: { calls: number; quotaWaits: number; quotaWaitedMs: number };
  /** The first findings (all of them in the stored report); see findingsTruncated. */
  findings: SweepFinding[];
  findingsTruncated: boolean;
  failures: SweepFailure[];
  /** Where the full report was written. */
  stored?: { json: string; markdown: string };
}

/** Findings kept in memory for the returned report; the stored JSON has every one. */
export const FINDINGS_KEPT_IN_MEMORY = 1000;

/** Receives findings page by page during the scan, then the summary. */
export interface ReportWriter {
  addFindings(findings: readonly SweepFinding[]): Promise<void>;
  finish(report: SweepReport): Promise<{ json: string; markdown: string }>;
}

export interface ReportStore {
  begin(sweepId: string, startedAt: Date): Promise<ReportWriter>;
}

/** A table row; every text cell is escaped: resource ids, scopes and details quote what resource creators chose. */
const line = (cells: Array<string | number>) => `| ${cells.map((c) => (typeof c === 'number' ? String(c) : markdownText(c))).join(' | ')} |`;
const align = (cells: string[]) => `| ${cells.join(' | ')} |`;

export function renderMarkdown(report: SweepReport, maxRows = 50): string {
  const t = report.totals;
  const out = [
    `# Compliance sweep ${markdownText(report.sweepId)}`,
    '',
    `${report.startedAt} → ${report.finishedAt} (${(report.durationMs / 1000).toFixed(1)} s), ${report.subscriptions.length} subscription(s)${report.reportOnly ? ', report only' : ''}.`,
    '',
    line(['scanned', 'compliant', 'non-compliant', 'fixed (queued)', 'reported', 'failed', 'skipped']),
    align(['---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    line([t.scanned, t.compliant, t.nonCompliant, t.queued, t.reported, t.failed, Object.values(t.skipped).reduce((a, b) => a + b, 0)]),
    '',
  ];
  const skipped = Object.entries(t.skipped);
  if (skipped.length > 0) out.push('## Skipped', '', line(['reason', 'resources']), align(['---', '---:']), ...skipped.map(([r, n]) => line([r, n])), '');
  const problems = Object.entries(report.problems);
  if (problems.length > 0) out.push('## Problems found', '', line(['problem', 'resources']), align(['---', '---:']), ...problems.map(([p, n]) => line([p, n ?? 0])), '');
  if (report.findings.length > 0) {
    out.push('## Non-compliant resources', '', line(['resource', 'rule', 'problems', 'missing roles', 'action']), align(['---', '---', '---', '---', '---']));
    for (const f of report.findings.slice(0, maxRows)) {
      out.push(line([f.resourceId, f.rule, f.problems.join(', '), f.missingRoleAssignments.map((m) => `${m.role} @ ${m.scope}`).join('; ') || '—', f.action]));
    }
    if (t.nonCompliant > maxRows) out.push('', `… and ${t.nonCompliant - maxRows} more in the JSON report.`);
    out.push('');
  }
  if (report.failures.length > 0) {
    out.push('## Failures', '', line(['resource', 'code', 'detail']), align(['---', '---', '---']), ...report.failures.slice(0, maxRows).map((f) => line([f.resourceId, f.code, f.detail])), '');
  }
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
        return { json: json.url, markdown: markdown.url };
      },
    };
  }
}

/** Reports kept in memory (sandbox without Storage, benchmarks, CLI report-only without Storage). */
export class InMemoryReportStore implements ReportStore {
  readonly reports: Array<{ json: string; markdown: string }> = [];
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
        this.reports.push({ json, markdown });
        const name = `memory://${blobPrefix(sweepId, startedAt)}`;
        return { json: `${name}.json`, markdown: `${name}.md` };
      },
    };
  }
}

export function reportContainerClient(storage: SweepStorage, container: string, credential: TokenCredential): ContainerClient | undefined {
  if (storage.kind === 'connection-string') return BlobServiceClient.fromConnectionString(storage.connectionString).getContainerClient(container);
  if (storage.kind === 'identity' && storage.blobServiceUrl) return new BlobServiceClient(storage.blobServiceUrl, credential).getContainerClient(container);
  return undefined;
}

export const newSweepId = (): string => randomUUID();
