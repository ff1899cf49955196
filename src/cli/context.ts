import type { CliConsole, CliIo } from './console';
import { EXIT } from './exit-codes';
import { applyQuery, formatResult, type OutputFormat } from './output';

/** Options every command takes (az's global arguments plus this product's own). */
export interface GlobalOptions {
  config?: string;
  subscription?: string;
  output: OutputFormat;
  query?: string;
  sandbox?: boolean;
  ledger?: string;
  ledgerConnectionString?: string;
  verbose?: boolean;
  debug?: boolean;
  onlyShowErrors?: boolean;
  detailedExitcode?: boolean;
}

/** Which of the standard streams are terminals (progress, colour and prompts depend on it). */
export interface Terminals {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface CliContext {
  readonly options: GlobalOptions;
  /** The command's name (`plan`, `ledger`, ...). */
  readonly command?: string;
  readonly console: CliConsole;
  readonly io: CliIo;
  readonly terminals: Terminals;
  /** The prompt's input (stdin); tests drive it through a pseudo-terminal. */
  readonly stdin: NodeJS.ReadableStream;
}

/**
 * What a command hands back: its JSON result (what `--output json` prints and `--query` filters), an
 * optional human table for `--output table` (knack's table_transformer: not used when a query is
 * active), and its exit code (exit-codes.ts).
 */
export interface CommandResult {
  value: unknown;
  table?: () => string;
  exitCode: number;
}

/** The command line is wrong: exit 2 (az's parser errors). */
export class UsageError extends Error {}

/** The resource named on the command line does not exist: exit 3 (az's ResourceNotFoundError). */
export class NotFoundError extends Error {}

/** The command could not do its job; the message says why: exit 1. */
export class CommandFailed extends Error {}

/** Writes a command's result to stdout: query first, then the format (knack's order). */
export function emit(ctx: CliContext, result: CommandResult): void {
  const { output, query } = ctx.options;
  if (output === 'table' && result.table && !query) {
    ctx.io.out(result.table());
    return;
  }
  const value = query ? applyQuery(result.value, { text: query }) : result.value;
  ctx.io.out(formatResult(value, output, { color: ctx.terminals.stdout && ctx.terminals.stderr, queryActive: query !== undefined }));
}

export { EXIT };
