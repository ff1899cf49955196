import type { Autopilot } from '../../app/composition';
import { revocationLine } from '../../engine/revocation';
import type { RemediationOutcome } from '../../engine/types';
import { isAutopilotError } from '../../errors';
import type { RemediationMessage, RemediationQueuePort } from '../../sweep';
import { type FixResult, withFixes } from '../../sweep/fix-results';
import type { FindingReason } from '../../sweep/report';
import type { SweepRevocation } from '../../sweep/revocations';
import { terminalLine } from '../../text/safe-text';
import { confirm, NO_TTY_FOR_CONFIRMATION } from '../confirm';
import type { CliContext, CommandResult } from '../context';
import { EXIT, UsageError } from '../context';
import { askBeforeWriting, disruptions } from '../disruptions';
import { leavesChanges } from '../exit-codes';
import { startProgress } from '../progress';
import { renderSweep } from '../render';
import { openSession, subscriptionOption, warnIfNotRecorded } from '../session';

export interface SweepFlags {
  reportOnly?: boolean;
  enqueue?: boolean;
  /** Apply fixes that restart containers or update scale-set instances without asking. */
  yes?: boolean;
  /** Also write the self-contained HTML report to this local file. */
  report?: string;
}

export interface SweepFix extends FixResult {
  errors: string[];
}

/** Why an outcome is not done: its blockers (blocked, pending) with their remedies, then its errors. */
function reasonsOf(outcome: RemediationOutcome): FindingReason[] {
  return [
    ...(outcome.blockers ?? []).map((b) => ({ code: b.code, detail: b.detail, ...(b.remedy !== undefined && { remedy: b.remedy }) })),
    ...outcome.errors.map((e) => ({ code: e.code, detail: e.message })),
  ];
}

/**
 * The fixes that disturb the workload, found by planning them (reads only). Only resources under a
 * rule with `workload.allowRestart` or `workload.upgradeInstances` can be disturbed, so only those are planned.
 */
async function disruptiveFixes(app: Autopilot, messages: readonly RemediationMessage[]): Promise<Map<string, string[]>> {
  const optedIn = new Set(app.rules.rules.filter((r) => r.workload.allowRestart || r.workload.upgradeInstances).map((r) => r.name));
  const found = new Map<string, string[]>();
  for (const m of messages) {
    if (m.rule !== undefined && !optedIn.has(m.rule)) continue;
    const planned = await app.remediator.remediate({ resourceId: m.resourceId, correlationId: m.correlationId, mode: 'plan' });
    const effects = disruptions(planned);
    if (effects.length > 0) found.set(m.resourceId, effects);
  }
  return found;
}

/** The one question before the sweep writes: how many fixes, and how many of them disturb the workload. */
function fixQuestion(fixes: number, disruptive: number): string {
  const these = `Apply the ${fixes} fix${fixes === 1 ? '' : 'es'} the sweep found?`;
  return disruptive === 0 ? these : `${these} ${disruptive} of them (listed above) restart containers or update scale-set instances.`;
}

/** The app's sweep ports (with the local queue when fixing here), its outcome recorder and identity. */
function sweepHostParts(app: Autopilot, local: RemediationQueuePort | undefined) {
  return {
    sweep: local ? { ...app.sweep, queue: local } : app.sweep,
    outcomes: app.outcomes,
    self: () => app.self(),
    clock: app.clock,
    // Handing findings to the deployed app's queue (`--enqueue`): its blocked, unchanged resources are held as the timer holds them.
    ledger: local ? undefined : app.ledger,
  };
}

/**
 * Asked before any removal, az-style: the list, then a y/n question; without a terminal the answer is no
 * (`--yes` is needed). `refusal` says why nothing was removed, once asked.
 */
function revocationPrompt(ctx: CliContext, beforeAsking: () => void) {
  let refusal: string | undefined;
  return {
    refusal: () => refusal,
    ask: async (items: readonly SweepRevocation[]): Promise<boolean> => {
      beforeAsking();
      ctx.io.err('These grants identity-autopilot made are no longer given by the rules (or their principal is gone):\n');
      for (const i of items)
        ctx.io.err(
          `  ${terminalLine(revocationLine({ role: i.role, assignment: { scope: i.scope }, reason: i.reason }))}  [${terminalLine(i.resourceId)}]\n`,
        );
      if (!ctx.terminals.stdin) refusal = NO_TTY_FOR_CONFIRMATION;
      else if (await confirm(`Remove these ${items.length} role assignment(s)?`, { input: ctx.stdin })) return true;
      else refusal = 'Operation cancelled.';
      return false;
    },
  };
}

/**
 * Runs each queued fix here through the engine (recording its outcome), but those held for a confirmation
 * they did not get (`not-applied`, with the effects that needed it).
 */
async function applyFixes(
  app: Autopilot,
  messages: readonly RemediationMessage[],
  notApplied: ReadonlyMap<string, string[]>,
): Promise<SweepFix[]> {
  const fixes: SweepFix[] = [];
  const fixing = startProgress('fixing', { unit: 'resources' });
  try {
    for (const message of messages) {
      const effects = notApplied.get(message.resourceId);
      if (effects) {
        const detail = effects.join('; ');
        fixes.push({
          resourceId: message.resourceId,
          status: 'not-applied',
          errors: [`ConfirmationRequired: ${detail}`],
          reasons: [{ code: 'ConfirmationRequired', detail, remedy: 'rerun the sweep with --yes, or answer y on a terminal' }],
        });
        continue;
      }
      const outcome = await app.remediator.remediate({
        resourceId: message.resourceId,
        correlationId: message.correlationId,
        mode: 'apply',
      });
      await app.outcomes.record(outcome, { trigger: 'cli' });
      fixes.push({
        resourceId: message.resourceId,
        status: outcome.status,
        errors: outcome.errors.map((e) => `${e.code}: ${e.message}`),
        reasons: reasonsOf(outcome),
      });
      fixing.update(fixes.length, messages.length);
    }
  } finally {
    fixing.stop();
  }
  return fixes;
}

/** The rules narrowed to `--subscription` (an id or a name), which they must govern; the app's own rules without it. */
async function rulesForSubscription(ctx: CliContext, app: Autopilot): Promise<Autopilot['rules']> {
  const rules = app.rules;
  const subscription = await subscriptionOption(ctx, app);
  if (!subscription) return rules;
  const wanted = subscription.toLowerCase();
  // Under management groups, ARM says which subscriptions they hold now.
  const governed = await app.governance.configFor(wanted, AbortSignal.timeout(60_000));
  if (!governed.scope.subscriptions.some((s) => s.toLowerCase() === wanted))
    throw new UsageError(`subscription ${ctx.options.subscription} is not governed by ${rules.source}`);
  return { ...rules, scope: { ...rules.scope, subscriptions: [wanted], managementGroups: undefined } };
}

/**
 * Finds drift across the governed subscriptions and fixes it here through the same engine as the queue
 * trigger (or only reports it, or hands it to the deployed app's queue). Before fixes that restart
 * containers or update scale-set instances it asks a terminal user; without a terminal it needs `--yes`.
 */
export async function sweepCommand(ctx: CliContext, flags: SweepFlags): Promise<CommandResult> {
  const session = await openSession(ctx);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { InMemoryRemediationQueue, runSweep } = require('../../sweep') as typeof import('../../sweep');
  const app = session.app;
  try {
    const rules = await rulesForSubscription(ctx, app);
    const local = flags.reportOnly || flags.enqueue ? undefined : new InMemoryRemediationQueue(app.settings.sweep.queueName);
    if (local) warnIfNotRecorded(ctx, session);
    const scan = startProgress(flags.reportOnly ? 'sweeping (report only)' : 'sweeping', { unit: 'resources' });
    const revocations = revocationPrompt(ctx, () => scan.stop());
    let report;
    try {
      report = await runSweep(
        { rules, ports: app.ports, governance: rules === app.rules ? app.governance : undefined, ...sweepHostParts(app, local) },
        {
          reportOnly: flags.reportOnly,
          trigger: 'cli',
          // `--yes` answers both questions: the removals, and the mass-revocation guard.
          confirmRevocations: flags.yes,
          confirm: flags.yes ? undefined : revocations.ask,
          log: ctx.console.logger({ component: 'sweep' }),
          onProgress: (p) => scan.update(p.scanned, p.totalEstimate),
        },
      );
    } catch (e) {
      if (isAutopilotError(e) && e.code === 'RemediationQueueNotConfigured')
        throw new UsageError(`${e.message} (--enqueue needs the app's storage settings)`);
      throw e;
    } finally {
      scan.stop();
    }
    const messages = local?.messages ?? [];
    // Fixing here writes: without --yes nothing is changed until the user says so (a terminal) and never
    // without one; the fixes that disturb the workload are named before the question.
    const held = flags.yes || messages.length === 0 ? new Map<string, string[]>() : await disruptiveFixes(app, messages);
    const refusal =
      flags.yes || messages.length === 0 ? undefined : await askBeforeWriting(ctx, held, fixQuestion(messages.length, held.size));
    // Refused: nothing is written; each fix says what it would have disturbed, or that it was not confirmed.
    const notApplied = new Map<string, string[]>(
      refusal === undefined ? [] : messages.map((m) => [m.resourceId, held.get(m.resourceId) ?? ['the fix was not confirmed']]),
    );
    const fixes = await applyFixes(app, messages, notApplied);
    // The scan counted these fixes `queued`; the reports say what each one did.
    report = withFixes(report, fixes);
    if (flags.report) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { writeHtmlReportFile } = require('../../sweep/report-file') as typeof import('../../sweep/report-file');
      const written = await writeHtmlReportFile(flags.report, report, app.sweep.reports);
      ctx.io.err(
        `HTML report written to ${written.path}${written.historyError ? ` (no trend: ${terminalLine(written.historyError)})` : ''}\n`,
      );
    }
    const revocationRefusal = revocations.refusal();
    if (revocationRefusal) ctx.console.error(`${revocationRefusal} No role assignment was removed (rerun with --yes to remove them)`);
    if (refusal)
      ctx.console.error(
        `${refusal} ${notApplied.size} fix${notApplied.size === 1 ? '' : 'es'} not applied (rerun with --yes to apply them, or with --report-only to change nothing)`,
      );
    const failed =
      report.totals.failed > 0 || fixes.some((f) => f.status === 'failed') || refusal !== undefined || revocationRefusal !== undefined;
    const unfinished =
      (flags.reportOnly ? report.totals.nonCompliant : report.totals.reported) + fixes.filter((f) => leavesChanges(f.status)).length;
    const finalReport = report;
    return {
      value: { report: finalReport, fixes },
      table: () => renderSweep(finalReport),
      exitCode: failed ? EXIT.failed : ctx.options.detailedExitcode && unfinished > 0 ? EXIT.changesPlanned : EXIT.ok,
    };
  } finally {
    await session.close();
  }
}
