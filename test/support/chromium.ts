import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** The DOM as Chromium parsed (and, were there any, ran the scripts of) the file. */
export function dumpDom(file: string): Promise<string> {
  return run(['--virtual-time-budget=2000', '--dump-dom', pathToFileURL(file).href]);
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
