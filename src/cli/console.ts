import { createLogger, type LogLevel, type StructuredLogger } from '../logging/logger';
import { terminalLine } from '../text/safe-text';

/** Where the CLI writes: stdout carries only the result, everything else goes to stderr. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * How much the CLI says on stderr, as knack's CLILogging (knack/log.py): `--only-show-errors` errors
 * only, the default adds warnings, `--verbose` adds information, `--debug` adds debug lines and the
 * app's own structured logs. Each line carries knack's level name (its no-colour format).
 */
export type Verbosity = 'errors' | 'warnings' | 'info' | 'debug';

const RANK: Record<Verbosity, number> = { errors: 0, warnings: 1, info: 2, debug: 3 };
const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const LEVEL_NAME: Record<LogLevel, string> = { error: 'ERROR', warn: 'WARNING', info: 'INFO', debug: 'DEBUG' };

export class CliConsole {
  constructor(
    readonly io: CliIo,
    readonly verbosity: Verbosity,
  ) {}

  error(message: string): void {
    this.write('error', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  debug(message: string): void {
    this.write('debug', message);
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] <= RANK[this.verbosity];
  }

  /** The app's structured logs (redacted by the logger), shown by their level: `--debug` shows them all. */
  logger(base: Record<string, unknown> = {}): StructuredLogger {
    return createLogger((level, line) => this.write(level, line), base);
  }

  private write(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    // One line per message: text that quotes resource names never moves the cursor or fakes a line.
    this.io.err(`${LEVEL_NAME[level]}: ${terminalLine(message)}\n`);
  }
}
