import { stripControls } from '../text/safe-text';

/**
 * A plain-text table for terminals: columns sized to content, cells may hold several lines ('\n').
 * Control characters and ANSI escapes in cells are neutralised here as well, whoever built the rows.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const split = (cell: string) => stripControls(cell).split('\n');
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.max(...split(r[i] ?? '').map((l) => l.length)))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(headers), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of rows) {
    const height = Math.max(...row.map((c) => split(c).length));
    for (let k = 0; k < height; k++) out.push(line(row.map((c) => split(c)[k] ?? '')));
  }
  return out.join('\n');
}
