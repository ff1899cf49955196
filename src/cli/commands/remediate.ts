import type { Autopilot } from '../../app/composition';
import { runManualRemediation } from '../../app/manual-remediation';
import { type ArmResourceId, isGuid, parseArmId } from '../../arm/resource-id';
import { isAutopilotError } from '../../errors';
import type { CliContext, CommandResult } from '../context';
import { CommandFailed, NotFoundError, UsageError } from '../context';
import { askBeforeWriting, disruptions } from '../disruptions';
import { exitCodeFor } from '../exit-codes';
import { startProgress } from '../progress';
import { renderOutcome } from '../render';
import { openSession, subscriptionOption, warnIfNotRecorded } from '../session';

/** A resource id argument, checked before any session opens: a bad one never reaches Azure. */
export function resourceArgument(resourceId: string): ArmResourceId {
  try {
    return parseArmId(resourceId);
  } catch (e) {
    throw new UsageError(isAutopilotError(e) ? `${e.code}: ${e.message}` : String(e));
  }
}

/**
 * `--subscription` (an id, or a name as az takes it) narrows the command: a resource elsewhere is a
 * usage error. `subscriptionId` is the name resolved; without it an id is compared and a name is left
 * for after the session opens (resolving it needs ARM).
 */
export function checkSubscription(resourceId: string, ctx: CliContext, subscriptionId?: string): void {
  const sub = resourceArgument(resourceId).subscriptionId;
  const wanted = subscriptionId ?? ctx.options.subscription;
  if (wanted && isGuid(wanted) && sub?.toLowerCase() !== wanted.toLowerCase())
    throw new UsageError(`${resourceId} is not in subscription ${ctx.options.subscription} (--subscription)`);
}

/**
 * Plans the fix and, when it would restart containers or update scale-set instances, asks (as `sweep`
 * does) before apply writes anything. Returns why it may not write (the user said no, or there was no
 * terminal to ask on), or undefined.
 */
async function confirmApply(
  ctx: CliContext,
  app: Autopilot,
  resourceId: string,
  profiles: string[] | undefined,
  beforeAsking: () => void,
): Promise<string | undefined> {
  const planned = await runManualRemediation(app, { resourceId, mode: 'plan', profiles }, 'cli');
  // A refused request or a missing resource is reported by the apply itself, as before.
  if (planned.kind === 'rejected') return undefined;
  const effects = disruptions(planned.outcome);
  if (effects.length === 0) return undefined;
  beforeAsking();
  return askBeforeWriting(ctx, new Map([[resourceId, effects]]), 'Apply this fix?');
}

/**
 * `plan` / `apply` for one resource. Arguments the rules refuse (a `--profile` the rule does not offer,
 * a resource outside the governed scope) are usage errors; a profile the resource's tag asks for that
 * does not exist, or a rule whose templates cannot be resolved for this resource, is a failure; a
 * resource that does not exist is exit 3.
 */
export async function remediateCommand(
  ctx: CliContext,
  mode: 'plan' | 'apply',
  resourceId: string,
  profiles: string[] | undefined,
  /** `apply --yes`: apply a fix that restarts containers or updates scale-set instances without asking. */
  yes = false,
): Promise<CommandResult> {
  checkSubscription(resourceId, ctx);
  const session = await openSession(ctx);
  const progress = startProgress(`${mode === 'plan' ? 'planning' : 'applying'} ${resourceId}`);
  try {
    checkSubscription(resourceId, ctx, await subscriptionOption(ctx, session.app));
    if (mode === 'apply') warnIfNotRecorded(ctx, session);
    // A fix that disturbs the workload is planned first (reads only) and applied only once confirmed.
    const refusal =
      mode === 'apply' && !yes ? await confirmApply(ctx, session.app, resourceId, profiles, () => progress.stop()) : undefined;
    if (refusal) throw new CommandFailed(`${refusal} Nothing was changed (rerun with --yes to apply the fix)`);
    const result = await runManualRemediation(session.app, { resourceId, mode, profiles }, 'cli');
    progress.stop();
    if (result.kind === 'rejected') {
      const message = `${result.code}: ${result.detail} (request ${result.requestId})`;
      // The caller's own arguments (the id, --profile) are usage errors; a profile named by the resource's
      // tag, or rules that do not resolve for it, are the resource's or the rules' problem: a failure.
      const callersFault =
        result.code === 'InvalidResourceId' ||
        result.code === 'OutsideGovernedScope' ||
        ((result.code === 'UnknownProfile' || result.code === 'ProfileNotSelectable') && (profiles?.length ?? 0) > 0);
      throw callersFault ? new UsageError(message) : new CommandFailed(message);
    }
    const { outcome } = result;
    if (outcome.status === 'gone') throw new NotFoundError(`ResourceNotFound: ${resourceId} does not exist (request ${result.requestId})`);
    ctx.console.info(`${mode} ${outcome.status} in ${outcome.durationMs} ms (request ${result.requestId})`);
    return {
      value: { requestId: result.requestId, mode, outcome },
      table: () => renderOutcome(outcome, result.requestId),
      exitCode: exitCodeFor(outcome, ctx.options.detailedExitcode === true),
    };
  } finally {
    progress.stop();
    await session.close();
  }
}
