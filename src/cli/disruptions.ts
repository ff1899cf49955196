import type { RemediationOutcome } from '../engine/types';
import { terminalLine } from '../text/safe-text';
import { confirm, NO_TTY_FOR_CONFIRMATION } from './confirm';
import type { CliContext } from './context';

/**
 * What applying the fix will do to the running workload beyond the identity: blockers the rule
 * consents to (a container group PUT restarts its containers) and follow-ups it runs (scale-set
 * instances brought to the new model). Empty: nothing a user would notice.
 */
export function disruptions(outcome: RemediationOutcome): string[] {
  const plan = outcome.plan;
  if (!plan) return [];
  return [...(plan.consented ?? []).map((b) => b.detail), ...(plan.followUps ?? []).filter((f) => f.run).map((f) => f.detail)];
}

/**
 * Lists the fixes that disturb the workload (resource id → effects) on stderr and asks, az-style
 * (knack `prompt_y_n`, default no). Without a terminal nobody can answer, so the answer is no and the
 * caller needs `--yes` (azure-cli `user_confirmation`: "Unable to prompt for confirmation as no tty
 * available. Use --yes."). Returns why nothing may be done, or undefined when the user said yes.
 */
export async function askBeforeWriting(
  ctx: CliContext,
  disruptive: ReadonlyMap<string, string[]>,
  question: string,
): Promise<string | undefined> {
  if (disruptive.size > 0) {
    ctx.io.err('These fixes disturb the running workload:\n');
    for (const [id, effects] of disruptive) ctx.io.err(`  ${terminalLine(id)}: ${terminalLine(effects.join('; '))}\n`);
  }
  if (!ctx.terminals.stdin) return NO_TTY_FOR_CONFIRMATION;
  return (await confirm(question, { input: ctx.stdin })) ? undefined : 'Operation cancelled.';
}
