/**
 * The fenced blocks of the repository's Markdown documentation, and which of them the docs test runs.
 *
 * Convention (docs/development.md, "Command blocks in the docs"): a ```sh or ```bash block is run on a
 * fresh copy of the repository and must exit 0. A word after the language says why a block is not run:
 * `azure` (needs an Azure account or login, or a tool that talks to Azure: az, azd, func publish, NuGet),
 * `slow` (runs without Azure but takes minutes or never ends: npm ci, npm test, benchmarks, servers).
 * A ```text output block right after a run block lists lines its output must contain (`...` skips).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
/** Why a shell block is not run; any other word after the language is a mistake the test reports. */
export const NOT_RUN_MARKERS = new Set(['azure', 'slow']);

export interface FencedBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  /** Words after the language in the info string. */
  markers: string[];
  body: string;
}

export interface CommandBlock extends FencedBlock {
  /** Lines the output must contain, from a ```text output block right after this one. */
  expectedOutput: string[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/;

export function fencedBlocks(file: string, text: string): FencedBlock[] {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trim().startsWith(fence)) body.push(lines[j++]!);
    blocks.push({
      file,
      line: i + 1,
      language: open[3]!.toLowerCase(),
      markers: open[4]!.split(/\s+/).filter(Boolean),
      body: body.join('\n'),
    });
    i = j;
  }
  return blocks;
}

export function isShell(block: FencedBlock): boolean {
  return SHELL_LANGUAGES.has(block.language);
}

/** Blocks the docs test runs: shell blocks with no not-run marker, each with the output a following text block expects. */
export function commandBlocks(file: string, text: string): CommandBlock[] {
  const blocks = fencedBlocks(file, text);
  return blocks.flatMap((block, index) => {
    if (!isShell(block) || block.markers.length > 0) return [];
    const next = blocks[index + 1];
    const between = next ? text.split('\n').slice(block.line + block.body.split('\n').length + 1, next.line - 1) : [];
    const expectsOutput = next && next.language === 'text' && next.markers.includes('output') && between.every((l) => l.trim() === '');
    const expectedOutput = expectsOutput
      ? next.body
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && l !== '...')
      : [];
    return [{ ...block, expectedOutput }];
  });
}

/** README.md and every Markdown file in docs/, relative to the repository root. */
export function documentationFiles(repo: string): string[] {
  const docs = readdirSync(join(repo, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

export function readDoc(repo: string, file: string): string {
  return readFileSync(join(repo, file), 'utf8');
}

/** GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors a Markdown file defines: its headings (outside code blocks, duplicates numbered) and `<a id>`s. */
export function anchors(text: string): Set<string> {
  const inCode = new Set(
    fencedBlocks('', text).flatMap((b) => Array.from({ length: b.body.split('\n').length + 2 }, (_, i) => b.line + i)),
  );
  const seen = new Map<string, number>();
  const result = new Set<string>();
  text.split('\n').forEach((line, i) => {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading && !inCode.has(i + 1)) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      result.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a (?:id|name)="([^"]+)"/g)) result.add(m[1]!);
  });
  return result;
}
