import { htmlText } from '../text/safe-text';
import type { ComplianceBreakdown, ComplianceCount, SweepFinding, SweepReport } from './report';
import { secretlessHtml } from './secretless-report';

/** A finding's action as a report shows it: a blocked one with its code and since when it is unchanged. */
export function actionText(f: SweepFinding): string {
  return f.blocked ? `blocked: ${f.blocked.code} (unchanged since ${f.blocked.since})` : f.action;
}

/**
 * The sweep report a person opens: one self-contained HTML file (inline CSS and SVG, no script, no
 * external asset, a Content-Security-Policy that forbids both) with compliance by type and by
 * subscription as bar charts, the trend against earlier sweeps, and the findings table. Every text
 * that comes from Azure (ids, names, types, tag values quoted in failures) goes through `htmlText`.
 */

/** What a later sweep's trend needs from an earlier one (stored next to each report as `.summary.json`). */
export interface SweepSummary {
  sweepId: string;
  startedAt: string;
  totals: { scanned: number; compliant: number; nonCompliant: number };
  compliance?: ComplianceBreakdown;
}

export function summaryOf(report: SweepReport): SweepSummary {
  const { scanned, compliant, nonCompliant } = report.totals;
  return {
    sweepId: report.sweepId,
    startedAt: report.startedAt,
    totals: { scanned, compliant, nonCompliant },
    compliance: report.compliance,
  };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A stored summary, checked: the container is ours, but a broken or foreign blob must not break the report. */
export function parseSweepSummary(value: unknown): SweepSummary | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const t = v.totals as Record<string, unknown> | undefined;
  if (typeof v.sweepId !== 'string' || typeof v.startedAt !== 'string' || Number.isNaN(Date.parse(v.startedAt))) return undefined;
  if (!t || !finite(t.scanned) || !finite(t.compliant) || !finite(t.nonCompliant)) return undefined;
  return {
    sweepId: v.sweepId,
    startedAt: v.startedAt,
    totals: { scanned: t.scanned, compliant: t.compliant, nonCompliant: t.nonCompliant },
  };
}

/** Rows shown in the findings table; the JSON report has all of them. */
export const HTML_FINDINGS_ROWS = 500;
/** Subscriptions drawn in the chart: the least compliant first. */
export const HTML_SUBSCRIPTION_BARS = 25;
/** Earlier sweeps in the trend. */
export const HTML_TREND_POINTS = 30;

const COMPLIANT = '#2e7d32';
const NON_COMPLIANT = '#c62828';

const pct = (c: ComplianceCount) => (c.compliant + c.nonCompliant === 0 ? 100 : (100 * c.compliant) / (c.compliant + c.nonCompliant));
const fmt = (n: number) => n.toLocaleString('en');

/** Horizontal stacked bars, one per label: compliant then non-compliant, scaled to the largest total. */
function barChart(chart: string, title: string, entries: Array<[string, ComplianceCount]>): string {
  const rowHeight = 22;
  const labelWidth = 380;
  const barWidth = 420;
  const max = Math.max(1, ...entries.map(([, c]) => c.compliant + c.nonCompliant));
  const height = entries.length * rowHeight + 8;
  const rows = entries.map(([label, c], i) => {
    const y = i * rowHeight + 4;
    const wc = (barWidth * c.compliant) / max;
    const wn = (barWidth * c.nonCompliant) / max;
    const text = htmlText(label);
    const summary = `${text}: ${fmt(c.compliant)} compliant, ${fmt(c.nonCompliant)} non-compliant (${pct(c).toFixed(1)} %)`;
    return (
      `<g class="bar" data-label="${text}"><title>${summary}</title>` +
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${text}</text>` +
      `<rect class="bar-compliant" x="${labelWidth}" y="${y}" width="${wc.toFixed(1)}" height="16" fill="${COMPLIANT}"/>` +
      `<rect class="bar-non-compliant" x="${(labelWidth + wc).toFixed(1)}" y="${y}" width="${wn.toFixed(1)}" height="16" fill="${NON_COMPLIANT}"/>` +
      `<text x="${(labelWidth + wc + wn + 6).toFixed(1)}" y="${y + 14}">${pct(c).toFixed(1)} %</text></g>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${chart}" role="img" aria-label="${htmlText(title)}" width="${labelWidth + barWidth + 80}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 80} ${height}">${rows.join('')}</svg>`;
}

/** Compliance % of each sweep, oldest first, the current one last. */
function trendChart(points: SweepSummary[]): string {
  const width = 880;
  const height = 200;
  const left = 48;
  const top = 12;
  const plotW = width - left - 16;
  const plotH = height - top - 36;
  const x = (i: number) => left + (points.length === 1 ? plotW / 2 : (plotW * i) / (points.length - 1));
  const y = (p: number) => top + plotH - (plotH * p) / 100;
  const values = points.map((p) => pct(p.totals));
  const grid = [0, 25, 50, 75, 100]
    .map(
      (g) =>
        `<line x1="${left}" x2="${left + plotW}" y1="${y(g)}" y2="${y(g)}" stroke="#ddd"/><text x="${left - 6}" y="${y(g) + 4}" text-anchor="end">${g} %</text>`,
    )
    .join('');
  const line = `<polyline class="trend-line" fill="none" stroke="${COMPLIANT}" stroke-width="2" points="${values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  const dots = points
    .map(
      (p, i) =>
        `<circle class="trend-point" cx="${x(i).toFixed(1)}" cy="${y(values[i]!).toFixed(1)}" r="4" fill="${i === points.length - 1 ? NON_COMPLIANT : COMPLIANT}"><title>${htmlText(p.startedAt)}: ${values[i]!.toFixed(1)} % of ${fmt(p.totals.compliant + p.totals.nonCompliant)} (sweep ${htmlText(p.sweepId)})</title></circle>`,
    )
    .join('');
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const axis = `<text x="${left}" y="${height - 8}">${htmlText(first.startedAt.slice(0, 16).replace('T', ' '))}</text><text x="${left + plotW}" y="${height - 8}" text-anchor="end">${htmlText(last.startedAt.slice(0, 16).replace('T', ' '))}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" data-chart="trend" role="img" aria-label="Compliance over the last sweeps" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${grid}${line}${dots}${axis}</svg>`;
}

const cell = (text: string) => `<td>${htmlText(text)}</td>`;
const num = (n: number) => `<td class="n">${fmt(n)}</td>`;

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1b1b;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}.card b{display:block;font-size:20px}
.ok b{color:${COMPLIANT}}.bad b{color:${NON_COMPLIANT}}
svg text{font:12px system-ui,sans-serif;fill:#333}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e3e3e3;padding:4px 6px;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}td.n{text-align:right}th{background:#f5f5f5}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}.note{color:#555}`;

/**
 * The report as one HTML document. `history`: summaries of earlier sweeps (any order; the current
 * sweep is added last).
 */
export function renderHtmlReport(report: SweepReport, history: readonly SweepSummary[] = []): string {
  const t = report.totals;
  const decided = t.compliant + t.nonCompliant;
  const byType = Object.entries(report.compliance.byType).sort(([a], [b]) => a.localeCompare(b));
  const bySubscription = Object.entries(report.compliance.bySubscription).sort(([a, x], [b, y]) => pct(x) - pct(y) || a.localeCompare(b));
  const shownSubs = bySubscription.slice(0, HTML_SUBSCRIPTION_BARS);
  const trend = [...history.filter((h) => h.sweepId !== report.sweepId)]
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
    .slice(-HTML_TREND_POINTS)
    .concat(summaryOf(report));
  const skipped = Object.values(t.skipped).reduce((a, b) => a + b, 0);
  const findings = report.findings.slice(0, HTML_FINDINGS_ROWS);
  const legend = `<p class="legend"><span style="background:${COMPLIANT}"></span>compliant<span style="background:${NON_COMPLIANT}"></span>non-compliant</p>`;

  const out = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // No script, no external fetch: even text that escaped escaping could not run or call home.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Compliance sweep ${htmlText(report.startedAt)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Compliance sweep</h1>`,
    `<p class="meta">Sweep ${htmlText(report.sweepId)}: ${htmlText(report.startedAt)} → ${htmlText(report.finishedAt)} (${(report.durationMs / 1000).toFixed(1)} s), ${fmt(report.subscriptions.length)} subscription(s)${report.reportOnly ? ', report only' : ''}.</p>`,
    '<div class="cards">',
    `<div class="card"><b>${decided === 0 ? '—' : `${((100 * t.compliant) / decided).toFixed(1)} %`}</b>compliant</div>`,
    `<div class="card"><b>${fmt(t.scanned)}</b>scanned</div>`,
    `<div class="card ok"><b>${fmt(t.compliant)}</b>compliant</div>`,
    `<div class="card bad"><b>${fmt(t.nonCompliant)}</b>non-compliant</div>`,
    `<div class="card"><b>${fmt(t.queued)}</b>fixed (queued)</div>`,
    `<div class="card"><b>${fmt(t.reported)}</b>reported</div>`,
    `<div class="card"><b>${fmt(t.blocked ?? 0)}</b>blocked (unchanged)</div>`,
    `<div class="card"><b>${fmt(t.failed)}</b>failed</div>`,
    `<div class="card"><b>${fmt(skipped)}</b>skipped</div>`,
    '</div>',
    '<h2>Compliance by resource type</h2>',
    legend,
    byType.length > 0
      ? barChart('by-type', 'Compliance by resource type', byType)
      : '<p class="note">No governed resource was decided.</p>',
    `<h2>Compliance by subscription${bySubscription.length > shownSubs.length ? ` (the ${shownSubs.length} least compliant of ${fmt(bySubscription.length)})` : ''}</h2>`,
    shownSubs.length > 0
      ? barChart('by-subscription', 'Compliance by subscription', shownSubs)
      : '<p class="note">No governed resource was decided.</p>',
    `<h2>Trend (${trend.length} sweep${trend.length === 1 ? '' : 's'})</h2>`,
    trendChart(trend),
    trend.length === 1 ? '<p class="note">The first sweep with a stored report: the trend starts here.</p>' : '',
    `<h2>Non-compliant resources (${fmt(t.nonCompliant)})</h2>`,
  ];
  if (findings.length > 0) {
    out.push(
      '<table id="findings"><thead><tr><th>resource</th><th>type</th><th>rule</th><th>problems</th><th>missing roles</th><th>action</th></tr></thead><tbody>',
      ...findings.map(
        (f) =>
          `<tr>${cell(f.resourceId)}${cell(f.resourceType)}${cell(f.rule)}${cell(f.problems.join(', '))}${cell(f.missingRoleAssignments.map((m) => `${m.role} @ ${m.scope}`).join('; ') || '—')}${cell(actionText(f))}</tr>`,
      ),
      '</tbody></table>',
    );
    if (t.nonCompliant > findings.length)
      out.push(`<p class="note">… and ${fmt(t.nonCompliant - findings.length)} more in the JSON report.</p>`);
  } else {
    out.push('<p class="note">None.</p>');
  }
  if (report.failures.length > 0) {
    out.push(
      `<h2>Failures (${fmt(t.failed)})</h2>`,
      '<table id="failures"><thead><tr><th>resource</th><th>code</th><th>detail</th></tr></thead><tbody>',
      ...report.failures.slice(0, HTML_FINDINGS_ROWS).map((f) => `<tr>${cell(f.resourceId)}${cell(f.code)}${cell(f.detail)}</tr>`),
      '</tbody></table>',
    );
  }
  const skippedRows = Object.entries(t.skipped);
  if (skippedRows.length > 0) {
    out.push(
      '<h2>Skipped</h2>',
      '<table id="skipped"><thead><tr><th>reason</th><th>resources</th></tr></thead><tbody>',
      ...skippedRows.map(([r, n]) => `<tr>${cell(r)}${num(n)}</tr>`),
      '</tbody></table>',
    );
  }
  if (report.secretless) out.push(...secretlessHtml(report.secretless));
  out.push(
    `<p class="note">Resource Graph: ${fmt(report.resourceGraph.calls)} call(s), ${fmt(report.resourceGraph.quotaWaits)} quota wait(s) (${(report.resourceGraph.quotaWaitedMs / 1000).toFixed(1)} s).</p>`,
    '</body></html>',
    '',
  );
  return out.join('\n');
}
