import { readFileSync } from 'node:fs';
import { validateRulesText } from '../../config';
import { terminalLine } from '../../text/safe-text';
import type { CliContext, CommandResult } from '../context';
import { CommandFailed, EXIT } from '../context';

/**
 * `validate <rules.yaml>`: every problem of the file with its key path and line, without touching
 * Azure. Exit 0 when the file loads (warnings allowed), 1 when it has problems or cannot be read.
 */
export function validateCommand(_ctx: CliContext, path: string): CommandResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CommandFailed(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const result = validateRulesText(text, path);
  // In file order, as a compiler lists them (the stages find them in schema order).
  const byLine = (a: { line?: number }, b: { line?: number }) => (a.line ?? 0) - (b.line ?? 0);
  const problems = [...result.problems].sort(byLine);
  const warnings = [...result.warnings].sort(byLine);
  const valid = problems.length === 0;
  const strip = <T extends { keyPath: string; reason: string; line?: number }>(p: T) => ({
    keyPath: p.keyPath,
    line: p.line ?? null,
    reason: p.reason,
  });
  return {
    value: { file: path, valid, problems: problems.map(strip), warnings: warnings.map(strip) },
    table: () => {
      // `file:line: key.path: reason`, the shape editors and CI logs link to the line.
      const line = (kind: string, p: { keyPath: string; reason: string; line?: number }) =>
        `${terminalLine(path)}${p.line ? `:${p.line}` : ''}: ${kind}: ${p.keyPath || '(top level)'}: ${terminalLine(p.reason)}`;
      const lines = [...problems.map((p) => line('error', p)), ...warnings.map((w) => line('warning', w))];
      lines.push(
        valid
          ? `${terminalLine(path)}: valid${warnings.length ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})` : ''}`
          : `${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      );
      return `${lines.join('\n')}\n`;
    },
    exitCode: valid ? EXIT.ok : EXIT.failed,
  };
}
