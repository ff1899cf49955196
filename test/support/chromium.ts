import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Chromium from Debian's `chromium` package (`.ci/run` installs it when missing), run headless on a
 * local file: what the browser parsed (`--dump-dom`) and what it drew (`--screenshot`).
 */
export function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

/**
 * The reason to skip a browser test, or undefined when Chromium is here. In CI (CI=true) a missing
 * Chromium is a failure, never a skip.
 */
export function chromiumSkipReason(): string | undefined {
  if (chromiumPath()) return undefined;
  assert.notEqual(process.env.CI, 'true', 'CI=true but chromium is not installed (.ci/run installs the Debian package)');
  return 'chromium is not installed (apt-get install -y chromium); the HTML report is not rendered in a browser';
}

function run(args: string[], timeoutMs = 90_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  return new Promise<string>((resolve, reject) => {
    execFile(
      chromiumPath()!,
      // A fresh profile per run; no sandbox (containers run as root); nothing fetched from the network.
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-extensions',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        rmSync(profile, { recursive: true, force: true });
        if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** The DOM as Chromium parsed (and, were there any, ran the scripts of) the file; laid out in a window of `size` when given. */
export function dumpDom(file: string, size?: string): Promise<string> {
  return run(['--virtual-time-budget=2000', ...(size ? [`--window-size=${size}`] : []), '--dump-dom', pathToFileURL(file).href]);
}

/** A PNG of the page as drawn at the given window size. */
export async function screenshot(file: string, png: string, size = '1280,1300'): Promise<Buffer> {
  await run([`--screenshot=${png}`, `--window-size=${size}`, '--hide-scrollbars', pathToFileURL(file).href]);
  return readFileSync(png);
}

/**
 * Start tags of a serialized DOM with their attribute names. In the serialization every attribute
 * value is double-quoted with `"` escaped, and text escapes `<`, so this finds every element.
 */
export function startTags(dom: string): Array<{ tag: string; attributes: string[] }> {
  const out: Array<{ tag: string; attributes: string[] }> = [];
  const tag = /<([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:="[^"]*")?)*)\s*\/?>/g;
  for (const m of dom.matchAll(tag)) {
    const attributes = [...m[2]!.matchAll(/\s+([^\s"'>/=]+)(?:="[^"]*")?/g)].map((a) => a[1]!.toLowerCase());
    out.push({ tag: m[1]!.toLowerCase(), attributes });
  }
  return out;
}

/** What Chromium laid out: the window's and the page's widths, elements that break words, and text cut off. */
export interface Layout {
  viewport: number;
  scrollWidth: number;
  /** Elements whose style breaks inside words (`word-break: break-all`, `overflow-wrap: anywhere`...). */
  midWord: string[];
  /** Table text wider than its box, but a name that ends in an ellipsis with its full text on hover (title). */
  clipped: string[];
  /** The findings table's column headers. */
  columns: string[];
}

// Runs in the page: writes what the browser laid out into the DOM that --dump-dom prints.
const MEASURE = `<script>
  const midWord = [...document.querySelectorAll('body *')].filter((e) => {
    const s = getComputedStyle(e);
    return s.wordBreak === 'break-all' || s.wordBreak === 'break-word' || s.overflowWrap === 'anywhere' || s.overflowWrap === 'break-word';
  }).map((e) => e.tagName + '.' + e.className);
  const clipped = [...document.querySelectorAll('td, td *')].filter((e) => e.scrollWidth > e.clientWidth + 1)
    .filter((e) => !(getComputedStyle(e).textOverflow === 'ellipsis' && e.title))
    .map((e) => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 60));
  document.body.setAttribute('data-measured', JSON.stringify({ viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth, midWord, clipped,
    columns: [...document.querySelectorAll('#findings th')].map((th) => th.textContent) }));
</script>`;

/**
 * The layout of an HTML report in a window `width` px wide. The report forbids scripts (CSP), so this
 * measures a copy without the CSP and with a measuring script appended; the report itself is unchanged.
 */
export async function layoutAt(html: string, width: number): Promise<Layout> {
  const dir = mkdtempSync(join(tmpdir(), 'layout-'));
  const file = join(dir, 'measure.html');
  writeFileSync(file, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</body>', `${MEASURE}</body>`));
  const dom = await dumpDom(file, `${width},1300`);
  rmSync(dir, { recursive: true, force: true });
  const raw = dom.match(/data-measured="([^"]*)"/)?.[1];
  assert.ok(raw, 'the measuring script ran');
  return JSON.parse(raw.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Layout;
}

/**
 * A sweep report readable in a window `width` px wide: no horizontal scrolling, no element that breaks
 * words in the middle, no text cut off but names in an ellipsis with their full id on hover, and the
 * findings table's columns (reason and remedy included).
 */
export async function assertReadableAt(html: string, width: number): Promise<void> {
  const layout = await layoutAt(html, width);
  assert.equal(layout.viewport, width);
  assert.ok(layout.scrollWidth <= width, `no horizontal scrolling at ${width} px (page is ${layout.scrollWidth} px wide)`);
  assert.deepEqual(layout.midWord, [], 'no element breaks words in the middle');
  assert.deepEqual(layout.clipped, [], 'no text is cut off, but names ending in an ellipsis with their id on hover');
  assert.deepEqual(layout.columns, ['resource', 'rule', 'problems', 'missing roles', 'result', 'reason', 'remedy']);
}

/**
 * What a person sees: a PNG of the report, checked to be a drawn page; copied to AUTOPILOT_REPORT_SCREENSHOT
 * when set (`AUTOPILOT_REPORT_SCREENSHOT=docs/img/sweep-report.png` refreshes the documentation's picture).
 */
export async function reportScreenshot(file: string, size?: string): Promise<void> {
  const out = join(mkdtempSync(join(tmpdir(), 'report-png-')), 'report.png');
  const png = await screenshot(file, out, size);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  assert.ok(png.length > 20_000, `a drawn page, not a blank one (${png.length} bytes)`);
  const keep = process.env.AUTOPILOT_REPORT_SCREENSHOT;
  if (keep) {
    mkdirSync(dirname(keep), { recursive: true });
    copyFileSync(out, keep);
  }
}
