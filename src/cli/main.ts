import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { isAutopilotError } from '../errors';
import { terminalLine } from '../text/safe-text';
import { ledgerCommand } from './commands/ledger';
import { remediateCommand } from './commands/remediate';
import { type SecretlessFlags, secretlessCommand } from './commands/secretless';
import { sweepCommand } from './commands/sweep';
import { validateCommand } from './commands/validate';
import { type WireEventsFlags, wireEventsCommand } from './commands/wire-events';
import { CliConsole, type CliIo, type Verbosity } from './console';
import {
  type CliContext,
  CommandFailed,
  type CommandResult,
  EXIT,
  emit,
  type GlobalOptions,
  NotFoundError,
  type Terminals,
  UsageError,
} from './context';
import { compileQuery, OUTPUT_FORMATS, QueryError, TableUnavailableError } from './output';
import { configureAzHelp, describeParseError, type Example, listOf, oneOf, positiveInteger, withExamples } from './usage';

export type { CliIo } from './console';

/** The product's version, from the package.json above this file (source or compiled tree). */
function productVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'identity-autopilot') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}

/** knack/log.py `_determine_log_level`, including its refusal to combine the flags. */
function verbosityOf(o: GlobalOptions): Verbosity {
  if (o.onlyShowErrors) {
    if (o.debug || o.verbose) throw new UsageError("--only-show-errors can't be used together with --debug or --verbose");
    return 'errors';
  }
  return o.debug ? 'debug' : o.verbose ? 'info' : 'warnings';
}

export interface RunOptions {
  io?: CliIo;
  terminals?: Terminals;
  stdin?: NodeJS.ReadableStream;
}

/**
 * The command line. Each command is one registration below that parses its own arguments and calls a
 * function returning a CommandResult; output, `--query`, verbosity and exit codes are handled here once.
 */
export function buildProgram(
  io: CliIo,
  terminals: Terminals,
  stdin: NodeJS.ReadableStream,
  setExit: (code: number) => void,
  onCommand: (command: Command) => void = () => undefined,
): Command {
  const program = new Command('identity-autopilot')
    .description('Turn on managed identities and grant their roles, from your rules file.')
    .version(productVersion(), '--version', 'show the version and exit')
    .option('-c, --config <path>', 'rules file (default: $AUTOPILOT_RULES_PATH or config/rules.yaml)')
    .option('-s, --subscription <name or id>', 'only act on resources in this subscription (its id, or its name as az takes it)')
    .addOption(
      new Option('-o, --output <format>', `output format (${OUTPUT_FORMATS.join(', ')})`)
        .argParser(oneOf('--output/-o', OUTPUT_FORMATS))
        .default('table'),
    )
    .option('--query <jmespath>', 'JMESPath query applied to the JSON result before it is formatted (https://jmespath.org)')
    .option(
      '--ledger <table url>',
      'audit ledger to record to and read from: https://<account>.table.core.windows.net/<table> (default: $AUTOPILOT_LEDGER_TABLE_URL)',
    )
    .option(
      '--ledger-connection-string <string>',
      'audit ledger by storage connection string, for Azurite: UseDevelopmentStorage=true (default: $AUTOPILOT_LEDGER_CONNECTION_STRING)',
    )
    .option(
      '--detailed-exitcode',
      'exit 2 when the command succeeded but changes are planned or outstanding (as terraform plan -detailed-exitcode)',
    )
    .option('--verbose', 'increase logging verbosity (stderr); use --debug for full debug logs')
    .option('--debug', "show all debug logs (stderr), including the app's structured logs")
    .option('--only-show-errors', 'only show errors, suppressing warnings')
    .option('--sandbox', 'run against the embedded ARM emulator and its demo estate (no Azure account needed)')
    .option('--sandbox-state <dir>', "keep the sandbox's estate in this directory between commands (implies --sandbox)")
    // Parse errors are printed by runCli in az's words (describeParseError), not commander's.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => undefined })
    .exitOverride();
  configureAzHelp(program);

  let context: CliContext | undefined;
  // The command being parsed, so a parse error can name it and suggest its own options.
  program.hook('preSubcommand', (_program, command) => {
    onCommand(command);
  });
  // Global options are read once the whole line is parsed (they may follow the command, as with az).
  program.hook('preAction', (_program, command) => {
    const options = program.opts<GlobalOptions>();
    const verbosity = verbosityOf(options);
    if (options.query !== undefined) compileQuery(options.query);
    context = { options, command: command.name(), console: new CliConsole(io, verbosity), io, terminals, stdin };
    context.console.debug(`Command arguments: ${JSON.stringify(command.args)}`);
  });
  /** Wraps a command: runs it with the context, prints its result, records its exit code. */
  const run =
    <A extends unknown[]>(command: (ctx: CliContext, ...args: A) => Promise<CommandResult> | CommandResult) =>
    async (...args: A): Promise<void> => {
      const ctx = context!;
      const started = Date.now();
      const result = await command(ctx, ...args);
      emit(ctx, result);
      ctx.console.info(`Command ran in ${((Date.now() - started) / 1000).toFixed(3)} seconds`);
      setExit(result.exitCode);
    };

  registerCommands(program, run);
  return program;
}

/** The command wrapper buildProgram makes: runs a command with the context and prints its result. */
type Run = <A extends unknown[]>(
  command: (ctx: CliContext, ...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

const SITE = '/subscriptions/<subscription id>/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-storefront';

/** az's "Examples" help section, per command. */
const EXAMPLES = {
  plan: [
    { summary: 'Show what apply would change for a web app, against the sandbox (no Azure account needed).', command: `${SITE} --sandbox` },
    {
      summary: 'Plan with two extra profiles, exiting 2 when there are changes (CI drift check).',
      command: `${SITE} --profile reader,blob-writer --detailed-exitcode`,
    },
  ],
  apply: [
    { summary: 'Enable the identity and grant its roles, as JSON.', command: `${SITE} --output json` },
    { summary: 'Apply with an extra role profile the matching rule allows.', command: `${SITE} --profile vault-secrets` },
  ],
  ledger: [
    {
      summary: "The resource's five latest outcomes, from the local Azurite ledger.",
      command: `${SITE} --top 5 --ledger-connection-string UseDevelopmentStorage=true`,
    },
    { summary: 'Only the request ids and statuses.', command: `${SITE} --query "value[].[requestId, status]" --output tsv` },
  ],
} satisfies Record<string, Example[]>;

/** One registration per command: its arguments, options and the function it calls. */
function registerCommands(program: Command, run: Run): void {
  for (const mode of ['plan', 'apply'] as const) {
    const command = program
      .command(mode)
      .description(
        mode === 'plan' ? 'show what apply would change; never writes' : 'enable the identity and grant the roles the rules give it',
      )
      .argument('<resourceId>', 'ARM id of the resource')
      // One value per flag (repeatable, or a comma list): a variadic option would swallow the resource id after it.
      .option(
        '-p, --profile <name>',
        'extra role profile (only those the matching rule allows); repeat it or give a comma list',
        listOf('--profile'),
      )
      .action(
        run((ctx, resourceId: string, o: { profile?: string[]; yes?: boolean }) =>
          remediateCommand(ctx, mode, resourceId, o.profile, o.yes === true),
        ),
      );
    if (mode === 'apply') command.option('-y, --yes', 'apply a fix that restarts containers or updates scale-set instances without asking');
    withExamples(command, EXAMPLES[mode]);
  }
  const ledger = program
    .command('ledger')
    .description("show the audit ledger's entries for a resource, newest first")
    .argument('<resourceId>', 'ARM id of the resource')
    .option('--top <n>', 'how many entries (a positive integer)', positiveInteger('--top'), 20)
    .action(run((ctx, resourceId: string, o: { top: number }) => ledgerCommand(ctx, resourceId, o.top)));
  withExamples(ledger, EXAMPLES.ledger);
  program
    .command('sweep')
    .description('find drift across the governed subscriptions (Resource Graph) and fix it, or only report it')
    .option('--report-only', 'report what is not compliant; change nothing')
    .option('--enqueue', "send each fix to the deployed app's remediation queue instead of fixing it here")
    .option(
      '-y, --yes',
      'apply the fixes (those that restart containers or update scale-set instances too) and remove revoked grants without asking',
    )
    .option('--report <file.html>', 'also write the HTML report (charts, trend, findings) to this file')
    .action(run((ctx, o: { reportOnly?: boolean; enqueue?: boolean; yes?: boolean; report?: string }) => sweepCommand(ctx, o)));
  program
    .command('secretless')
    .description(
      'show which Dapr components still use keys, the change that moves each to its identity, and which targets could turn keys off',
    )
    .option('--sole-consumers <scope...>', "ids whose targets' keys only the scanned Dapr components use (needed for a 'ready' verdict)")
    .option('--migrate <component>', "rewrite this component (id, or unique name) to its app's identity, once every precondition holds")
    .option('-y, --yes', 'confirm the migration (the apps that load the component pick it up again)')
    .option('--window-minutes <n>', 'how long the identity must have held its roles before a migration (default 15)')
    .action(run((ctx, o: SecretlessFlags) => secretlessCommand(ctx, o)));
  program
    .command('validate')
    .description('check a rules file and list every problem with its key path and line; touches no Azure')
    .argument('<rules.yaml>', 'the rules file')
    .action(run((ctx, path: string) => validateCommand(ctx, path)));
  program
    .command('wire-events')
    .description(
      'give every governed subscription (management groups resolved) a system topic and an event subscription to the app; idempotent',
    )
    .option('--function-app-id <id>', 'Function App resource id (default $AZURE_FUNCTION_APP_ID)')
    .option('--resource-group <name>', 'resource group for new system topics, created when missing (default $AZURE_RESOURCE_GROUP)')
    .option('--location <region>', 'region for that resource group (default $AZURE_LOCATION)')
    .option('--dead-letter-storage-id <id>', 'storage account for dead-lettered events (default $DEADLETTER_STORAGE_ACCOUNT_ID)')
    .option('--dead-letter-container <name>', 'its blob container', 'deadletter')
    .action(run((ctx, o: WireEventsFlags) => wireEventsCommand(ctx, o)));
}

function defaultIo(): CliIo {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
}

/** Runs the CLI; returns the exit code (see exit-codes.ts). */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const io = options.io ?? defaultIo();
  const terminals = options.terminals ?? {
    stdin: process.stdin.isTTY === true,
    stdout: process.stdout.isTTY === true,
    stderr: process.stderr.isTTY === true,
  };
  let code: number = EXIT.ok;
  let command: Command | undefined;
  const program = buildProgram(
    io,
    terminals,
    options.stdin ?? process.stdin,
    (c) => (code = c),
    (c) => (command = c),
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command's own result: 2 is "changes" only when --detailed-exitcode asked for it.
    return code === EXIT.changesPlanned ? code : failureExit(code, detailedExitcode(argv));
  } catch (e) {
    return failureExit(errorExit(e, io, command ?? program), detailedExitcode(argv));
  }
}

/**
 * With `--detailed-exitcode` the codes are terraform plan's: 0 done, 1 error of any kind, 2 changes
 * ("0 - Succeeded, diff is empty; 1 - Errored; 2 - Succeeded, there is a diff"). So a usage error (2 in az)
 * or a missing resource (3) exits 1 there, and CI can tell drift from a typo.
 */
function failureExit(code: number, detailed: boolean): number {
  return detailed && code !== EXIT.ok ? EXIT.failed : code;
}

/** Whether the line asks for detailed exit codes; read from the raw line, since parsing may have failed. */
function detailedExitcode(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--detailed-exitcode');
}

/** Prints an error the way az does and returns its exit code (exit-codes.ts). */
function errorExit(e: unknown, io: CliIo, command: Command): number {
  const error = (message: string) => io.err(`ERROR: ${terminalLine(message)}\n`);
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) return EXIT.ok; // --help, --version
    io.err(describeParseError(e, command));
    return EXIT.usage;
  }
  if (e instanceof UsageError || e instanceof QueryError) {
    error(e.message);
    return EXIT.usage;
  }
  if (e instanceof NotFoundError) {
    error(e.message);
    return EXIT.notFound;
  }
  if (e instanceof CommandFailed || e instanceof TableUnavailableError) {
    error(e.message);
    return EXIT.failed;
  }
  // A bad resource id is the caller's; bad settings or a bad rules file are the configuration's.
  if (isAutopilotError(e) && e.code === 'InvalidResourceId') {
    error(e.message);
    return EXIT.usage;
  }
  if (isAutopilotError(e) && ['InvalidRulesFile', 'InvalidSetting'].includes(e.code)) {
    error(`${e.message}${e.code === 'InvalidRulesFile' ? ' (identity-autopilot validate <file> lists every problem)' : ''}`);
    return EXIT.failed;
  }
  error(`failed: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT.failed;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
