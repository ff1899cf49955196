import { htmlText } from '../text/safe-text';
import type { ComplianceBreakdown, ComplianceCount, SweepFinding, SweepReport } from './report';
import { actionText, findingReasons, portalUrl, resourceLabel, resultCounts, shortScope } from './report-text';
import { secretlessHtml } from './secretless-report';

export { actionText } from './report-text';

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

/**
 * Defined once, in the legend (always drawn before the charts that use it). Non-compliant is drawn hatched, not only red: a reader who cannot tell the two colours apart (or
 * prints in grey) still sees which part is which, and each bar ends with its counts in words.
 */
const PATTERNS = `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${NON_COMPLIANT}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>`;

/** Horizontal stacked bars, one per label: compliant (solid) then non-compliant (hatched), scaled to the largest total. */
function barChart(chart: string, title: string, entries: Array<[key: string, label: string, count: ComplianceCount]>): string {
  const rowHeight = 22;
  const labelWidth = 300;
  const barWidth = 380;
  const width = labelWidth + barWidth + 300;
  const max = Math.max(1, ...entries.map(([, , c]) => c.compliant + c.nonCompliant));
  const height = entries.length * rowHeight + 8;
  const rows = entries.map(([key, label, c], i) => {
    const y = i * rowHeight + 4;
    const wc = (barWidth * c.compliant) / max;
    const wn = (barWidth * c.nonCompliant) / max;
    const text = htmlText(label.length > 48 ? `${label.slice(0, 46)}…` : label);
    const counts = `${pct(c).toFixed(1)} % (${fmt(c.compliant)} compliant, ${fmt(c.nonCompliant)} non-compliant)`;
    return (
      `<g class="bar" data-label="${htmlText(key)}"><title>${htmlText(key)}: ${counts}</title>` +
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${text}</text>` +
      `<rect class="bar-compliant" x="${labelWidth}" y="${y}" width="${wc.toFixed(1)}" height="16" fill="${COMPLIANT}"/>` +
      `<rect class="bar-non-compliant" x="${(labelWidth + wc).toFixed(1)}" y="${y}" width="${wn.toFixed(1)}" height="16" fill="url(#hatch)"/>` +
      `<text x="${(labelWidth + wc + wn + 6).toFixed(1)}" y="${y + 14}">${counts}</text></g>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${chart}" role="img" aria-label="${htmlText(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rows.join('')}</svg>`;
}

/** Compliance % of each sweep, oldest first, the current one last (at least two sweeps). */
function trendChart(points: SweepSummary[]): string {
  const width = 880;
  const height = 200;
  const left = 48;
  const top = 12;
  const plotW = width - left - 16;
  const plotH = height - top - 36;
  const x = (i: number) => left + (plotW * i) / (points.length - 1);
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
  // The latest point is also named in words: its colour alone does not say "this sweep".
  const axis = `<text x="${left}" y="${height - 8}">${htmlText(first.startedAt.slice(0, 16).replace('T', ' '))}</text><text x="${left + plotW}" y="${height - 8}" text-anchor="end">this sweep: ${htmlText(last.startedAt.slice(0, 16).replace('T', ' '))}, ${values[values.length - 1]!.toFixed(1)} %</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" data-chart="trend" role="img" aria-label="Compliance over the last sweeps" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${grid}${line}${dots}${axis}</svg>`;
}

/**
 * Untrusted text as HTML with break opportunities between the segments of paths and expressions: after
 * each '/' (ids, types, scopes), after a '.' before a letter and before a '[' (`containers["a"].secureValue`).
 * Lines break there, never inside a word.
 */
const breakable = (text: string) =>
  htmlText(text)
    .replace(/\//g, '/<wbr>')
    .replace(/\.(?=[A-Za-z])/g, '.<wbr>')
    .replace(/(?<=\w)\[/g, '<wbr>[');
const cell = (text: string) => `<td>${breakable(text)}</td>`;
const num = (n: number) => `<td class="n">${fmt(n)}</td>`;

/**
 * A resource as a person reads it: its name linking to its portal page, then its resource group and
 * subscription (display name when known) and type; the full id on hover. Long names end in an ellipsis.
 */
function resourceCell(resourceId: string, report: SweepReport): string {
  const r = resourceLabel(resourceId, report);
  const id = htmlText(resourceId);
  const where = [r.resourceGroup, r.subscription].filter((v) => v !== undefined).join(' · ');
  return (
    `<td class="res"><a class="name" href="${htmlText(portalUrl(resourceId))}" title="${id}" rel="noreferrer noopener">${htmlText(r.name)}</a>` +
    `<span class="where" title="${id}">${htmlText(where)}</span>${r.type ? `<span class="where" title="${id}">${htmlText(r.type)}</span>` : ''}</td>`
  );
}

/** A finding's reasons (code in bold, then the detail) and their remedies, as two cells. */
function reasonCells(f: SweepFinding): string {
  const reasons = findingReasons(f);
  if (reasons.length === 0) return '<td class="reason">—</td><td class="remedy">—</td>';
  const why = reasons.map((r) => `<b>${htmlText(r.code)}</b>: ${breakable(r.detail)}`).join('<br>');
  const remedies = reasons.filter((r) => r.remedy).map((r) => breakable(r.remedy!));
  return `<td class="reason">${why}</td><td class="remedy">${remedies.length > 0 ? remedies.join('<br>') : '—'}</td>`;
}

const missingRoles = (f: SweepFinding) =>
  f.missingRoleAssignments
    .map((m) => `${htmlText(m.role)} @ <span title="${htmlText(m.scope)}">${htmlText(shortScope(m.scope))}</span>`)
    .join('<br>') || '—';

// No `word-break: break-all` and no `overflow-wrap: anywhere`: text breaks between words and after '/' (<wbr>),
// never inside a word. The table's layout is fixed to the page's width; a name longer than its column ends in
// an ellipsis, with the full id on hover.
const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;padding:0 24px;color:#1b1b1b;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:96px}.card b{display:block;font-size:20px}
.ok b{color:${COMPLIANT}}.bad b{color:${NON_COMPLIANT}}
svg{max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif;fill:#333}
table{border-collapse:collapse;width:100%;font-size:13px;table-layout:fixed}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 6px;text-align:left;vertical-align:top;overflow:hidden}
td.n{text-align:right}th{background:#f5f5f5}
td.res a,td.res span{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
td.res .where{color:#555;font-size:12px}a{color:#0b5cad}
.legend svg{vertical-align:middle;margin:0 4px 0 12px}.note{color:#555}`;

const LEGEND = `<p class="legend"><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" fill="${COMPLIANT}"/></svg>compliant (solid)<svg width="14" height="14" aria-hidden="true">${PATTERNS}<rect width="14" height="14" fill="url(#hatch)"/></svg>non-compliant (hatched)</p>`;

/** The trend against earlier sweeps, or "first sweep" when there is none to compare with. */
function trendSection(report: SweepReport, history: readonly SweepSummary[]): string[] {
  const trend = [...history.filter((h) => h.sweepId !== report.sweepId)]
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
    .slice(-HTML_TREND_POINTS)
    .concat(summaryOf(report));
  if (trend.length === 1)
    return [
      '<h2>Trend: first sweep</h2>',
      '<p class="note" id="first-sweep">first sweep: no earlier report to compare with; the trend starts with the next sweep.</p>',
    ];
  return [`<h2>Trend (${trend.length} sweeps)</h2>`, trendChart(trend)];
}

function cards(report: SweepReport): string[] {
  const t = report.totals;
  const decided = t.compliant + t.nonCompliant;
  const skipped = Object.values(t.skipped).reduce((a, b) => a + b, 0);
  return [
    '<div class="cards">',
    `<div class="card"><b>${decided === 0 ? '—' : `${((100 * t.compliant) / decided).toFixed(1)} %`}</b>compliant</div>`,
    `<div class="card"><b>${fmt(t.scanned)}</b>scanned</div>`,
    `<div class="card ok"><b>${fmt(t.compliant)}</b>compliant</div>`,
    `<div class="card bad"><b>${fmt(t.nonCompliant)}</b>non-compliant</div>`,
    // Each result apart: a fix the CLI made is "fixed", one sent to the queue "queued", and so on.
    ...resultCounts(t).map(([label, n]) => `<div class="card" data-count="${label}"><b>${fmt(n)}</b>${label}</div>`),
    `<div class="card"><b>${fmt(skipped)}</b>skipped</div>`,
    '</div>',
  ];
}

function chartsSection(report: SweepReport): string[] {
  const label = (sub: string) => report.subscriptionNames?.[sub] ?? sub;
  const byType = Object.entries(report.compliance.byType)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, c]): [string, string, ComplianceCount] => [k, k, c]);
  const bySubscription = Object.entries(report.compliance.bySubscription)
    .sort(([a, x], [b, y]) => pct(x) - pct(y) || a.localeCompare(b))
    .map(([k, c]): [string, string, ComplianceCount] => [k, label(k), c]);
  const shownSubs = bySubscription.slice(0, HTML_SUBSCRIPTION_BARS);
  const none = '<p class="note">No governed resource was decided.</p>';
  return [
    '<h2>Compliance by resource type</h2>',
    LEGEND,
    byType.length > 0 ? barChart('by-type', 'Compliance by resource type', byType) : none,
    `<h2>Compliance by subscription${bySubscription.length > shownSubs.length ? ` (the ${shownSubs.length} least compliant of ${fmt(bySubscription.length)})` : ''}</h2>`,
    shownSubs.length > 0 ? barChart('by-subscription', 'Compliance by subscription', shownSubs) : none,
  ];
}

function findingsSection(report: SweepReport): string[] {
  const t = report.totals;
  const findings = report.findings.slice(0, HTML_FINDINGS_ROWS);
  const out = [`<h2>Non-compliant resources (${fmt(t.nonCompliant)})</h2>`];
  if (findings.length === 0) return [...out, '<p class="note">None.</p>'];
  out.push(
    '<table id="findings"><colgroup><col style="width:19%"><col style="width:9%"><col style="width:13%"><col style="width:14%"><col style="width:8%"><col style="width:20%"><col style="width:17%"></colgroup>',
    '<thead><tr><th>resource</th><th>rule</th><th>problems</th><th>missing roles</th><th>result</th><th>reason</th><th>remedy</th></tr></thead><tbody>',
    ...findings.map(
      (f) =>
        `<tr>${resourceCell(f.resourceId, report)}${cell(f.rule)}${cell(f.problems.join(', '))}<td>${missingRoles(f)}</td><td class="result">${htmlText(actionText(f))}</td>${reasonCells(f)}</tr>`,
    ),
    '</tbody></table>',
  );
  if (t.nonCompliant > findings.length)
    out.push(`<p class="note">… and ${fmt(t.nonCompliant - findings.length)} more in the JSON report.</p>`);
  return out;
}

/** Failures, then the resources left alone on purpose by name, then the other skips as counts. */
function otherSections(report: SweepReport): string[] {
  const out: string[] = [];
  if (report.failures.length > 0) {
    out.push(
      `<h2>Failures (${fmt(report.totals.failed)})</h2>`,
      '<table id="failures"><colgroup><col style="width:30%"><col style="width:20%"><col style="width:50%"></colgroup><thead><tr><th>resource</th><th>code</th><th>detail</th></tr></thead><tbody>',
      ...report.failures
        .slice(0, HTML_FINDINGS_ROWS)
        .map((f) => `<tr>${resourceCell(f.resourceId, report)}${cell(f.code)}${cell(f.detail)}</tr>`),
      '</tbody></table>',
    );
  }
  const named = report.skippedResources ?? [];
  if (named.length > 0) {
    out.push(
      `<h2>Opted out and exempted (${fmt(named.length)})</h2>`,
      '<table id="skipped-resources"><colgroup><col style="width:30%"><col style="width:15%"><col style="width:55%"></colgroup><thead><tr><th>resource</th><th>reason</th><th>detail</th></tr></thead><tbody>',
      ...named.slice(0, HTML_FINDINGS_ROWS).map((s) => `<tr>${resourceCell(s.resourceId, report)}${cell(s.reason)}${cell(s.detail)}</tr>`),
      '</tbody></table>',
    );
  }
  const skippedRows = Object.entries(report.totals.skipped);
  if (skippedRows.length > 0) {
    out.push(
      '<h2>Skipped</h2>',
      '<table id="skipped"><thead><tr><th>reason</th><th>resources</th></tr></thead><tbody>',
      ...skippedRows.map(([r, n]) => `<tr>${cell(r)}${num(n)}</tr>`),
      '</tbody></table>',
    );
  }
  return out;
}

/**
 * The report as one HTML document. `history`: summaries of earlier sweeps (any order; the current
 * sweep is added last).
 */
export function renderHtmlReport(report: SweepReport, history: readonly SweepSummary[] = []): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // No script, no external fetch: even text that escaped escaping could not run or call home. Links
    // (to the portal) are navigation a person chooses, not fetches.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Compliance sweep ${htmlText(report.startedAt)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Compliance sweep</h1>`,
    `<p class="meta">Sweep ${htmlText(report.sweepId)}: ${htmlText(report.startedAt)} → ${htmlText(report.finishedAt)} (${(report.durationMs / 1000).toFixed(1)} s), ${fmt(report.subscriptions.length)} subscription(s)${report.reportOnly ? ', report only' : ''}.</p>`,
    ...cards(report),
    ...chartsSection(report),
    ...trendSection(report, history),
    ...findingsSection(report),
    ...otherSections(report),
    ...(report.secretless ? secretlessHtml(report.secretless) : []),
    `<p class="note">Resource Graph: ${fmt(report.resourceGraph.calls)} call(s), ${fmt(report.resourceGraph.quotaWaits)} quota wait(s) (${(report.resourceGraph.quotaWaitedMs / 1000).toFixed(1)} s).</p>`,
    '</body></html>',
    '',
  ].join('\n');
}
