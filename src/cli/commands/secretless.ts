import { randomUUID } from 'node:crypto';
import { formatTable } from '../../app/text-table';
import { hasManagementGroups } from '../../config';
import type { RemediationOutcome } from '../../engine/types';
import { soleConsumerScopes } from '../../settings/settings';
import { ResourceGraphReader } from '../../sweep/resource-graph';
import { type SecretlessComponent, type SecretlessSection, secretlessSection } from '../../sweep/secretless';
import { MigrationRefused, migrateComponent } from '../../sweep/secretless-migration';
import { componentCells, targetCells } from '../../sweep/secretless-report';
import { terminalLine } from '../../text/safe-text';
import type { CliContext, CommandResult } from '../context';
import { CommandFailed, EXIT, NotFoundError, UsageError } from '../context';
import { openSession, type Session } from '../session';

export interface SecretlessFlags {
  /** Scopes whose targets' keys, the operator declares, only the scanned Dapr components use. */
  soleConsumers?: string[];
  /** A component (id, or name when unique) to move to its app's identity. */
  migrate?: string;
  /** Confirms the migration's disruption. */
  yes?: boolean;
  /** The propagation window, minutes (default 15). */
  windowMinutes?: string;
}

/** The component the user named: its id, or its name when exactly one component has it. */
function namedComponent(section: SecretlessSection, wanted: string): SecretlessComponent {
  const byId = section.components.find((c) => c.componentId.toLowerCase() === wanted.toLowerCase());
  if (byId) return byId;
  const byName = section.components.filter((c) => c.name === wanted);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new UsageError(`${byName.length} components are named '${wanted}': give the component's id`);
  throw new NotFoundError(`no Dapr component '${wanted}' in the governed subscriptions`);
}

/** Migrates one component, records it (one ledger row, log line and event), and returns the outcome. */
async function migrate(app: Session['app'], section: SecretlessSection, flags: SecretlessFlags): Promise<CommandResult> {
  const window = flags.windowMinutes === undefined ? undefined : Number(flags.windowMinutes);
  if (window !== undefined && !(Number.isInteger(window) && window >= 0))
    throw new UsageError('--window-minutes takes a whole number of minutes');
  const component = namedComponent(section, flags.migrate!);
  const dapr = app.ports.dapr!;
  let outcome: RemediationOutcome;
  try {
    outcome = await migrateComponent(dapr, component, {
      windowMinutes: window,
      confirmed: flags.yes === true,
      correlationId: randomUUID(),
      signal: AbortSignal.timeout(5 * 60_000),
    });
  } catch (e) {
    if (e instanceof MigrationRefused) throw new CommandFailed(`migration refused: ${e.message}`);
    throw e;
  }
  await app.outcomes.record(outcome, { trigger: 'cli' });
  return {
    value: outcome,
    table: () => `${terminalLine(outcome.actions.map((a) => ('detail' in a ? a.detail : a.kind)).join('\n'))}\n`,
    exitCode: EXIT.ok,
  };
}

/** The table: components first, then targets; every cell made safe for a terminal. */
export function renderSecretless(s: SecretlessSection): string {
  const safe = (rows: string[][]) => rows.map((r) => r.map(terminalLine));
  const t = s.totals;
  return [
    `Dapr components: ${t.components}, on keys: ${t.onKeys}`,
    formatTable(['component', 'type', 'method', 'identity grant', 'change', 'environment'], safe(s.components.map(componentCells))),
    '',
    `Targets: ${t.ready} ready, ${t.notReady} not ready, ${t.unknown} unknown, ${t.alreadyOff} already off${s.scan.complete ? '' : ` (${s.scan.failed.length} environment(s) could not be listed)`}`,
    formatTable(['target', 'local auth', 'verdict', 'blocked by / unknown because'], safe(s.targets.map(targetCells))),
    '',
  ].join('\n');
}

/**
 * `identity-autopilot secretless`: which Dapr components still use keys, what would move each to its app's
 * identity, and whether each target's local authentication could be switched off. Reads only (Resource
 * Graph, and one list of each environment's components); never asks for a secret value.
 */
export async function secretlessCommand(ctx: CliContext, flags: SecretlessFlags): Promise<CommandResult> {
  let declared: string[];
  try {
    declared = soleConsumerScopes((flags.soleConsumers ?? []).join(','));
  } catch {
    throw new UsageError('--sole-consumers takes subscription, resource group or resource ids (/subscriptions/...)');
  }
  const session = await openSession(ctx);
  const app = session.app;
  try {
    const dapr = app.ports.dapr;
    if (!dapr) throw new UsageError('this app has no Dapr component access configured');
    const signal = AbortSignal.timeout(10 * 60_000);
    const rules = hasManagementGroups(app.rules) ? await app.governance.resolved(signal) : app.rules;
    const wanted = ctx.options.subscription?.toLowerCase();
    const subscriptions = rules.scope.subscriptions.filter((s) => !wanted || s.toLowerCase() === wanted);
    if (wanted && subscriptions.length === 0)
      throw new UsageError(`subscription ${ctx.options.subscription} is not governed by ${rules.source}`);
    const reader = new ResourceGraphReader(app.sweep.graph, { signal });
    const section = await secretlessSection({
      rules,
      rows: (q) => reader.pages(q, subscriptions),
      dapr,
      soleConsumerScopes: [...app.settings.sweep.soleConsumerScopes, ...declared],
      signal,
    });
    ctx.console.info(`${section.scan.environments} environment(s) scanned; ${section.totals.onKeys} component(s) on keys`);
    if (flags.migrate !== undefined) return await migrate(app, section, flags);
    return { value: section, table: () => renderSecretless(section), exitCode: EXIT.ok };
  } finally {
    await session.close();
  }
}
