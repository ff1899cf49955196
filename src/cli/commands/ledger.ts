import type { CliContext, CommandResult } from '../context';
import { CommandFailed, EXIT } from '../context';
import { renderLedger } from '../render';
import { describeLedger, NO_LEDGER, openSession, subscriptionOption } from '../session';
import { checkSubscription } from './remediate';

/** A resource's ledger entries, newest first. Without a ledger there is nothing to read: exit 1, saying so. */
export async function ledgerCommand(ctx: CliContext, resourceId: string, top: number): Promise<CommandResult> {
  checkSubscription(resourceId, ctx);
  const session = await openSession(ctx);
  try {
    checkSubscription(resourceId, ctx, await subscriptionOption(ctx, session.app));
    if (session.ledger.kind === 'memory') throw new CommandFailed(`${NO_LEDGER}: there is no ledger to read`);
    const entries = await session.app.ledger.byResourceId(resourceId, top);
    ctx.console.info(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} from ${describeLedger(session.ledger)}`);
    return { value: { resourceId, value: entries }, table: () => renderLedger(resourceId, entries), exitCode: EXIT.ok };
  } finally {
    await session.close();
  }
}
