import type { InvocationContext, Timer } from '@azure/functions';
import type { Autopilot } from '../app/composition';
import { createLogger } from '../logging/logger';
import { runSweep } from '../sweep/sweep';
import { contextSink } from './resource-write-success';

/**
 * Timer trigger (AUTOPILOT_SWEEP_SCHEDULE): one compliance sweep over every governed subscription.
 * A failure throws, so the host logs it as a failed run; the next tick sweeps again.
 */
export function createComplianceSweepHandler(getAutopilot: () => Autopilot) {
  return async function complianceSweep(timer: Timer, context: InvocationContext): Promise<void> {
    const log = createLogger(contextSink(context), { invocationId: context.invocationId, trigger: 'timer' });
    if (timer?.isPastDue) log.log('warn', 'sweep.past-due', { detail: 'the timer fired late (app was down or busy); sweeping now' });
    const app = getAutopilot();
    const { confirmMassRevocation, revocationMode, soleConsumerScopes } = app.settings.sweep;
    await runSweep(app, { log, confirmRevocations: confirmMassRevocation, revocationMode, soleConsumerScopes });
  };
}
