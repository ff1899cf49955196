import { Command, CommanderError, Option } from 'commander';
import type { Autopilot } from '../app/composition';
import { createAutopilot } from '../app/composition';
import { runManualRemediation } from '../app/manual-remediation';
import { readSettings } from '../settings/settings';
import { type ArmResourceId, parseArmId } from '../arm/resource-id';
import { isAutopilotError } from '../errors';
import { EXIT, exitCodeFor } from './exit-codes';
import { startProgress } from './progress';
import { renderLedger, renderOutcome, renderSweep } from './render';
import { terminalLine } from '../text/safe-text';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface GlobalOptions {
  config?: string;
  subscription?: string;
  output: 'table' | 'json';
  sandbox?: boolean;
}

class BadInput extends Error {}

interface Session {
  app: Autopilot;
  close(): Promise<void>;
}

/** Real Azure through DefaultAzureCredential (so `az login` works), or the embedded sandbox. */
async function openSession(options: GlobalOptions): Promise<Session> {
  if (options.sandbox) {
    // Loaded only here: the emulator (and oav) should not slow down a CLI talking to real Azure.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startSandbox } = require('../sandbox/environment') as typeof import('../sandbox/environment');
    const sandbox = await startSandbox({ rulesPath: options.config });
    return { app: sandbox.app, close: sandbox.close };
  }
  const settings = readSettings({
    ...process.env,
    AUTOPILOT_CREDENTIAL: 'default',
    AUTOPILOT_RULES_PATH: options.config ?? process.env.AUTOPILOT_RULES_PATH ?? 'config/rules.yaml',
  });
  return { app: createAutopilot(settings), close: async () => undefined };
}

/** A resource id argument, checked before any session opens: a bad one never reaches Azure. */
function resourceArgument(resourceId: string): ArmResourceId {
  try {
    return parseArmId(resourceId);
  } catch (e) {
    throw new BadInput(isAutopilotError(e) ? `${e.code}: ${e.message}` : String(e));
  }
}

function checkSubscription(resourceId: string, options: GlobalOptions): void {
  const sub = resourceArgument(resourceId).subscriptionId;
  if (!options.subscription) return;
  if (sub?.toLowerCase() !== options.subscription.toLowerCase()) {
    throw new BadInput(`${resourceId} is not in subscription ${options.subscription} (--subscription)`);
  }
}

async function remediateCommand(mode: 'plan' | 'apply', resourceId: string, profiles: string[] | undefined, options: GlobalOptions, io: CliIo): Promise<number> {
  checkSubscription(resourceId, options);
  const session = await openSession(options);
  const done = startProgress(`${mode === 'plan' ? 'planning' : 'applying'} ${resourceId}`);
  try {
    const result = await runManualRemediation(session.app, { resourceId, mode, profiles }, 'cli');
    done();
    if (result.kind === 'rejected') {
      if (options.output === 'json') io.out(`${JSON.stringify({ requestId: result.requestId, error: { code: result.code, message: result.detail } }, null, 2)}\n`);
      io.err(`refused: ${result.code}: ${terminalLine(result.detail)}\n`);
      return EXIT.badInput;
    }
    io.out(options.output === 'json' ? `${JSON.stringify({ requestId: result.requestId, mode, outcome: result.outcome }, null, 2)}\n` : renderOutcome(result.outcome, result.requestId));
    return exitCodeFor(result.outcome);
  } finally {
    done();
    await session.close();
  }
}

async function ledgerCommand(resourceId: string, top: number, options: GlobalOptions, io: CliIo): Promise<number> {
  checkSubscription(resourceId, options);
  const session = await openSession(options);
  try {
    const entries = await session.app.ledger.byResourceId(resourceId, top);
    io.out(options.output === 'json' ? `${JSON.stringify({ resourceId, value: entries }, null, 2)}\n` : renderLedger(resourceId, entries));
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

async function sweepCommand(flags: { reportOnly?: boolean; enqueue?: boolean }, options: GlobalOptions, io: CliIo): Promise<number> {
  const session = await openSession(options);
  const { InMemoryRemediationQueue, runSweep } = require('../sweep') as typeof import('../sweep');
  const app = session.app;
  let rules = app.rules;
  if (options.subscription) {
    const wanted = options.subscription.toLowerCase();
    // Under management groups, ARM says which subscriptions they hold now.
    const governed = await app.governance.configFor(wanted, AbortSignal.timeout(60_000)).catch(async (e: unknown) => {
      await session.close();
      throw e;
    });
    if (!governed.scope.subscriptions.some((s) => s.toLowerCase() === wanted)) {
      await session.close();
      throw new BadInput(`subscription ${options.subscription} is not governed by ${rules.source}`);
    }
    rules = { ...rules, scope: { ...rules.scope, subscriptions: [wanted], managementGroups: undefined } };
  }
  // By default the CLI fixes what it finds itself, through the same engine the queue trigger runs;
  // --enqueue hands the work to the deployed app's remediation queue instead.
  const local = flags.reportOnly || flags.enqueue ? undefined : new InMemoryRemediationQueue(app.settings.sweep.queueName);
  const done = startProgress(flags.reportOnly ? 'sweeping (report only)' : 'sweeping');
  try {
    const report = await runSweep({ rules, ports: app.ports, governance: rules === app.rules ? app.governance : undefined, sweep: local ? { ...app.sweep, queue: local } : app.sweep }, { reportOnly: flags.reportOnly });
    const fixes: Array<{ resourceId: string; status: string; errors: string[] }> = [];
    for (const message of local?.messages ?? []) {
      const outcome = await app.remediator.remediate({ resourceId: message.resourceId, correlationId: message.correlationId, mode: 'apply' });
      await app.outcomes.record(outcome, { trigger: 'cli' });
      fixes.push({ resourceId: message.resourceId, status: outcome.status, errors: outcome.errors.map((e) => `${e.code}: ${e.message}`) });
    }
    done();
    if (options.output === 'json') io.out(`${JSON.stringify({ report, fixes }, null, 2)}\n`);
    else io.out(renderSweep(report, fixes));
    if (report.totals.failed > 0 || fixes.some((f) => f.status === 'failed')) return EXIT.failed;
    const unfixed = flags.reportOnly ? report.totals.nonCompliant : report.totals.reported;
    return unfixed > 0 ? EXIT.changesPlanned : EXIT.ok;
  } catch (e) {
    if (isAutopilotError(e) && e.code === 'RemediationQueueNotConfigured') throw new BadInput(`${e.message} (--enqueue needs the app's storage settings)`);
    throw e;
  } finally {
    done();
    await session.close();
  }
}

async function wireEventsCommand(flags: { functionAppId?: string; resourceGroup?: string; location?: string; deadLetterStorageId?: string; deadLetterContainer: string }, options: GlobalOptions, io: CliIo): Promise<number> {
  const { renderWiring, wireEvents } = require('../app/wire-events') as typeof import('../app/wire-events');
  const env = process.env;
  const functionAppId = flags.functionAppId ?? env.AZURE_FUNCTION_APP_ID;
  const topicResourceGroup = flags.resourceGroup ?? env.AZURE_RESOURCE_GROUP;
  const location = flags.location ?? env.AZURE_LOCATION;
  if (!functionAppId || !topicResourceGroup || !location) throw new BadInput('wire-events needs --function-app-id, --resource-group and --location (or AZURE_FUNCTION_APP_ID, AZURE_RESOURCE_GROUP, AZURE_LOCATION from azd)');
  const deadLetterStorageId = flags.deadLetterStorageId ?? env.DEADLETTER_STORAGE_ACCOUNT_ID;
  const session = await openSession(options);
  try {
    const app = session.app;
    const results = await wireEvents(app.connection, app.rules, app.governance, {
      functionAppId,
      topicResourceGroup,
      location,
      ...(deadLetterStorageId ? { deadLetter: { storageAccountId: deadLetterStorageId, container: flags.deadLetterContainer } } : {}),
    });
    io.out(options.output === 'json' ? `${JSON.stringify({ subscriptions: results }, null, 2)}\n` : renderWiring(results));
    return results.some((r) => r.error) ? EXIT.failed : EXIT.ok;
  } catch (e) {
    if (isAutopilotError(e) && e.code === 'InvalidWiring') throw new BadInput(e.message);
    throw e;
  } finally {
    await session.close();
  }
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('identity-autopilot')
    .description('Turn on managed identities and grant their roles, from your rules file.')
    .option('-c, --config <path>', 'rules file (default: $AUTOPILOT_RULES_PATH or config/rules.yaml)')
    .option('-s, --subscription <id>', 'only act on resources in this subscription')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--sandbox', 'run against the embedded ARM emulator and its demo estate (no Azure account needed)')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('plan')
    .description('show what apply would change; never writes')
    .argument('<resourceId>', 'ARM id of the resource')
    .option('-p, --profile <name...>', 'extra role profiles (only those the matching rule allows)')
    .action(async (resourceId: string, o: { profile?: string[] }) => setExit(await remediateCommand('plan', resourceId, o.profile, globals(), io)));
  program
    .command('apply')
    .description('enable the identity and grant the roles the rules give it')
    .argument('<resourceId>', 'ARM id of the resource')
    .option('-p, --profile <name...>', 'extra role profiles (only those the matching rule allows)')
    .action(async (resourceId: string, o: { profile?: string[] }) => setExit(await remediateCommand('apply', resourceId, o.profile, globals(), io)));
  program
    .command('ledger')
    .description("show the audit ledger's entries for a resource, newest first")
    .argument('<resourceId>', 'ARM id of the resource')
    .option('--top <n>', 'how many entries', (v) => Number(v), 20)
    .action(async (resourceId: string, o: { top: number }) => setExit(await ledgerCommand(resourceId, o.top, globals(), io)));
  program
    .command('sweep')
    .description('find drift across the governed subscriptions (Resource Graph) and fix it, or only report it')
    .option('--report-only', 'report what is not compliant; change nothing')
    .option('--enqueue', "send each fix to the deployed app's remediation queue instead of fixing it here")
    .action(async (o: { reportOnly?: boolean; enqueue?: boolean }) => setExit(await sweepCommand(o, globals(), io)));
  program
    .command('wire-events')
    .description('give every governed subscription (management groups resolved) a system topic and an event subscription to the app; idempotent')
    .option('--function-app-id <id>', 'Function App resource id (default $AZURE_FUNCTION_APP_ID)')
    .option('--resource-group <name>', 'resource group for new system topics, created when missing (default $AZURE_RESOURCE_GROUP)')
    .option('--location <region>', 'region for that resource group (default $AZURE_LOCATION)')
    .option('--dead-letter-storage-id <id>', 'storage account for dead-lettered events (default $DEADLETTER_STORAGE_ACCOUNT_ID)')
    .option('--dead-letter-container <name>', 'its blob container', 'deadletter')
    .action(async (o: Parameters<typeof wireEventsCommand>[0]) => setExit(await wireEventsCommand(o, globals(), io)));
  return program;
}

/** Runs the CLI; returns the exit code (see exit-codes.ts). */
export async function runCli(argv: string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    if (e instanceof BadInput) {
      io.err(`error: ${terminalLine(e.message)}\n`);
      return EXIT.badInput;
    }
    // Bad settings or a bad rules file are the caller's input, with the key path and reason.
    if (isAutopilotError(e) && ['InvalidRulesFile', 'InvalidSetting', 'InvalidResourceId'].includes(e.code)) {
      io.err(`error: ${terminalLine(e.message)}\n`);
      return EXIT.badInput;
    }
    io.err(`failed: ${terminalLine(e instanceof Error ? e.message : String(e))}\n`);
    return EXIT.failed;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
