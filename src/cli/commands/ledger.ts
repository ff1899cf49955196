import { DefaultAzureCredential } from '@azure/identity';
import { isGuid } from '../../arm/resource-id';
import { createLedger } from '../../ledger/create';
import type { CliContext, CommandResult } from '../context';
import { CommandFailed, EXIT, UsageError } from '../context';
import { cliLedger, describeLedger, NO_LEDGER } from '../ledger-settings';
import { renderLedger } from '../render';
import { checkSubscription } from './remediate';

/**
 * A resource's ledger entries, newest first. Only the ledger is opened: no rules file, no ARM sign-in and no
 * sandbox are needed to read it. Without a ledger there is nothing to read: exit 1, saying which settings name one.
 */
export async function ledgerCommand(ctx: CliContext, resourceId: string, top: number): Promise<CommandResult> {
  // Reading the ledger signs in to nothing, so a subscription name cannot be resolved here; refusing it
  // beats silently not checking the resource against it.
  const wanted = ctx.options.subscription;
  if (wanted && !isGuid(wanted))
    throw new UsageError(
      `--subscription: ledger compares the resource id with a subscription id; '${wanted}' is not one (ledger does not sign in to look up names)`,
    );
  checkSubscription(resourceId, ctx);
  const { connection, source } = cliLedger(ctx.options, process.env);
  if (connection.kind === 'memory') throw new CommandFailed(`${NO_LEDGER}: there is no ledger to read`);
  ctx.console.info(`ledger: ${describeLedger(connection)} (from ${source})`);
  const entries = await createLedger(connection, new DefaultAzureCredential()).byResourceId(resourceId, top);
  ctx.console.info(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} from ${describeLedger(connection)}`);
  return { value: { resourceId, value: entries }, table: () => renderLedger(resourceId, entries), exitCode: EXIT.ok };
}
