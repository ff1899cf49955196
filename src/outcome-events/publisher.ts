import type { TokenCredential } from '@azure/core-auth';
import { EventGridPublisherClient } from '@azure/eventgrid';
import type { OutcomeContext, OutcomeRecorder } from '../app/outcome-recorder';
import { summarizeOutcome } from '../app/outcome-log';
import type { RemediationOutcome } from '../engine/types';

export const REMEDIATION_COMPLETED = 'IdentityAutopilot.RemediationCompleted';
export const REMEDIATION_FAILED = 'IdentityAutopilot.RemediationFailed';
export const OUTCOME_EVENT_SOURCE = '/identity-autopilot';

/**
 * Publishes each outcome as a CloudEvent to a custom Event Grid topic, authenticated with the app's
 * managed identity, so other automation (a pipeline waiting for the identity, say) can react.
 * Skipped outcomes are not published: nothing happened that anyone could wait for.
 */
export class OutcomeEventPublisher implements OutcomeRecorder {
  private readonly client: EventGridPublisherClient<'CloudEvent'>;

  constructor(endpoint: string, credential: TokenCredential, options: { ca?: string } = {}) {
    this.client = new EventGridPublisherClient(endpoint, 'CloudEvent', credential, options.ca ? { tlsOptions: { ca: options.ca } } : {});
  }

  async record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void> {
    if (outcome.status === 'skipped') return;
    await this.client.send([
      {
        type: outcome.status === 'failed' ? REMEDIATION_FAILED : REMEDIATION_COMPLETED,
        source: OUTCOME_EVENT_SOURCE,
        subject: outcome.resourceId,
        datacontenttype: 'application/json',
        data: { ...summarizeOutcome(outcome), trigger: context.trigger, requestId: context.requestId },
      },
    ]);
  }
}

/** Records an outcome in several places; one failing does not stop the others, but is reported. */
export class CompositeRecorder implements OutcomeRecorder {
  constructor(private readonly recorders: OutcomeRecorder[]) {}

  async record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void> {
    const results = await Promise.allSettled(this.recorders.map((r) => r.record(outcome, context)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason), 'recording the outcome failed');
  }
}
