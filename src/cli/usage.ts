import type { Command, CommanderError, Help } from 'commander';
import { UsageError } from './context';

/**
 * The parser's side of the az conventions: argument values checked as az's argparse types check them,
 * parser errors worded as azure-cli's `AzCliCommandParser.error` / `_check_value` word them
 * (src/azure-cli-core/azure/cli/core/parser.py), and the "Global Arguments" / "Examples" help sections.
 */

/**
 * How alike two strings are: Python's `difflib.SequenceMatcher.ratio()` (Ratcliff/Obershelp: twice the
 * characters in matching blocks over the total length), which az uses for its suggestions.
 */
export function similarity(a: string, b: string): number {
  if (a.length + b.length === 0) return 1;
  return (2 * matchingCharacters(a, b)) / (a.length + b.length);
}

function matchingCharacters(a: string, b: string): number {
  let best = { i: 0, j: 0, size: 0 };
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      let k = 0;
      while (i + k < a.length && j + k < b.length && a[i + k] === b[j + k]) k++;
      if (k > best.size) best = { i, j, size: k };
    }
  }
  if (best.size === 0) return 0;
  return (
    best.size +
    matchingCharacters(a.slice(0, best.i), b.slice(0, best.j)) +
    matchingCharacters(a.slice(best.i + best.size), b.slice(best.j + best.size))
  );
}

/** The closest candidate, as `difflib.get_close_matches(value, choices, cutoff=0.7)[0]` in az's parser. */
export function closestMatch(value: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = similarity(value, candidate);
    if (score >= 0.7 && (!best || score > best.score)) best = { candidate, score };
  }
  return best?.candidate;
}

/** `--top`-style counts: argparse's `type=int` message for a non-number, and a positive bound. */
export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    if (!/^[+-]?\d+$/.test(value.trim())) throw new UsageError(`argument ${flag}: invalid int value: '${value}'`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`argument ${flag}: must be a positive integer, got '${value}'`);
    return n;
  };
}

/** A closed set of values: argparse's `choices` message (`invalid choice: 'xml' (choose from 'json', ...)`). */
export function oneOf<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    const listed = choices.map((c) => `'${c}'`).join(', ');
    throw new UsageError(`argument ${flag}: invalid choice: '${value}' (choose from ${listed})`);
  };
}

/**
 * A list option: one value per flag, repeatable, each value also a comma-separated list
 * (`--profile a --profile b`, `--profile a,b`). Never variadic, so it cannot swallow a positional argument.
 */
export function listOf(flag: string): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    const names = value.split(',').map((v) => v.trim());
    if (names.some((n) => n === '')) throw new UsageError(`argument ${flag}: empty name in '${value}'`);
    return [...(previous ?? []), ...names];
  };
}

/** Every flag a command accepts: its own and the program's (global) ones. */
function flagsOf(command: Command): string[] {
  const flags: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) {
    for (const o of c.options) flags.push(...[o.long, o.short].filter((f): f is string => f !== undefined));
  }
  return flags;
}

/** The quoted word in a commander message (`unknown option '--tpo'`). */
function quoted(message: string): string {
  return /'([^']*)'/.exec(message)?.[1] ?? '';
}

/**
 * A commander parse error in az's words, plus az's recommendation ("Did you mean '--top' ?") and a
 * short usage hint instead of the whole help.
 */
export function describeParseError(error: CommanderError, command: Command): string {
  const program = root(command);
  const lines: string[] = [];
  switch (error.code) {
    case 'commander.unknownOption': {
      const flag = quoted(error.message);
      lines.push(`ERROR: unrecognized arguments: ${flag}`);
      const guess = closestMatch(flag, flagsOf(command));
      if (guess) lines.push(`Did you mean '${guess}' ?`);
      break;
    }
    case 'commander.unknownCommand': {
      const word = quoted(error.message);
      lines.push(`ERROR: '${word}' is misspelled or not recognized by the system.`);
      const guess = closestMatch(
        word,
        program.commands.map((c) => c.name()),
      );
      if (guess) lines.push(`Did you mean '${guess}' ?`);
      break;
    }
    case 'commander.excessArguments':
      lines.push(`ERROR: unrecognized arguments: ${error.message.replace(/^error: /, '')}`);
      break;
    case 'commander.missingArgument':
      lines.push(`ERROR: the following arguments are required: <${quoted(error.message)}>`);
      break;
    case 'commander.optionMissingArgument':
      lines.push(`ERROR: argument ${/--[\w-]+/.exec(error.message)?.[0] ?? quoted(error.message)}: expected one argument`);
      break;
    default:
      lines.push(`ERROR: ${error.message.replace(/^error: /, '')}`);
  }
  lines.push('', usageHint(command));
  return `${lines.join('\n')}\n`;
}

/** `usage: identity-autopilot plan [options] <resourceId>` and where the full help is. */
export function usageHint(command: Command): string {
  const path = commandPath(command);
  return `usage: ${path} ${command.usage()}\nSee '${path} --help'.`;
}

function root(command: Command): Command {
  let c = command;
  while (c.parent) c = c.parent;
  return c;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export interface Example {
  /** What it does, one sentence. */
  summary: string;
  /** The command line, without the program name. */
  command: string;
}

/** az's help layout: the program's options shown under each command as "Global Arguments", then "Examples". */
export function configureAzHelp(program: Command): void {
  program.configureHelp({
    showGlobalOptions: true,
    formatItemList(this: Help, heading: string, items: string[], helper: Help): string[] {
      const renamed = heading === 'Global Options:' ? 'Global Arguments:' : heading;
      return Object.getPrototypeOf(this).formatItemList.call(this, renamed, items, helper);
    },
  });
}

/** Adds az's "Examples" section to a command's help. */
export function withExamples(command: Command, examples: Example[]): Command {
  const program = root(command).name();
  const text = examples.map((e) => `    ${e.summary}\n        ${program} ${command.name()} ${e.command}`).join('\n\n');
  return command.addHelpText('after', `\nExamples:\n${text}\n`);
}
