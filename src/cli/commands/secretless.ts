import { formatTable } from '../../app/text-table';
import { hasManagementGroups } from '../../config';
import { soleConsumerScopes } from '../../settings/settings';
import { ResourceGraphReader } from '../../sweep/resource-graph';
import { type SecretlessSection, secretlessSection } from '../../sweep/secretless';
import { componentCells, targetCells } from '../../sweep/secretless-report';
import { terminalLine } from '../../text/safe-text';
import type { CliContext, CommandResult } from '../context';
import { EXIT, UsageError } from '../context';
import { openSession } from '../session';

export interface SecretlessFlags {
  /** Scopes whose targets' keys, the operator declares, only the scanned Dapr components use. */
  soleConsumers?: string[];
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
    return { value: section, table: () => renderSecretless(section), exitCode: EXIT.ok };
  } finally {
    await session.close();
  }
}
