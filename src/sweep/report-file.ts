import { writeFile } from 'node:fs/promises';
import { renderHtmlReport } from './html-report';
import type { ReportStore, SweepReport } from './report';

/**
 * The CLI's `sweep --report <file.html>`: the HTML report written locally, with the trend read from
 * the report store (the deployed app's container when Storage is configured). A store that cannot
 * be read costs the trend, not the report.
 */
export async function writeHtmlReportFile(
  path: string,
  report: SweepReport,
  store: ReportStore,
): Promise<{ path: string; earlierSweeps: number; historyError?: string }> {
  let history: Awaited<ReturnType<ReportStore['history']>> = [];
  let historyError: string | undefined;
  try {
    history = await store.history();
  } catch (e) {
    historyError = e instanceof Error ? e.message : String(e);
  }
  await writeFile(path, renderHtmlReport(report, history), 'utf8');
  return { path, earlierSweeps: history.filter((h) => h.sweepId !== report.sweepId).length, historyError };
}
