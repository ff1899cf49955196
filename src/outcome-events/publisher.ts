import type { TokenCredential } from '@azure/core-auth';
import { EventGridPublisherClient } from '@azure/eventgrid';
import type { RemediationOutcome } from '../engine/types';
import type { OutcomeContext, OutcomeRecorder } from '../outcomes/recorder';
import { summarizeOutcome } from '../outcomes/summary';

export const REMEDIATION_COMPLETED = 'IdentityAutopilot.RemediationCompleted';
export const REMEDIATION_FAILED = 'IdentityAutopilot.RemediationFailed';
export const OUTCOME_EVENT_SOURCE = '/identity-autopilot';

/**
 * Publishes each outcome as a CloudEvent to a custom Event Grid topic, authenticated with the app's
 * managed identity, so other automation (a pipeline waiting for the identity, say) can react.
 * Skipped outcomes are not published: nothing happened that anyone could wait for; nor are deferred
 * ones: the remediation is not over, and its final outcome is published when the queue finishes it.
 */
export class OutcomeEventPublisher implements OutcomeRecorder {
  private readonly client: EventGridPublisherClient<'CloudEvent'>;

  constructor(endpoint: string, credential: TokenCredential, options: { ca?: string } = {}) {
    this.client = new EventGridPublisherClient(endpoint, 'CloudEvent', credential, options.ca ? { tlsOptions: { ca: options.ca } } : {});
  }

  async record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void> {
    if (outcome.status === 'skipped' || outcome.status === 'deferred') return;
    await this.client.send([
      {
        // Only what Azure did is "completed": blocked work is a failure someone must act on.
        type: outcome.status === 'failed' || outcome.status === 'blocked' ? REMEDIATION_FAILED : REMEDIATION_COMPLETED,
        source: OUTCOME_EVENT_SOURCE,
        subject: outcome.resourceId,
        datacontenttype: 'application/json',
        data: { ...summarizeOutcome(outcome), trigger: context.trigger, requestId: context.requestId },
      },
    ]);
  }
}

/**
 * Where every outcome goes: the ledger, which must succeed (it is the audit trail, and it is what
 * recognises a redelivered event), and notifications, which are best effort: an outage of the outcome
 * topic is logged, never turned into a failed invocation that Event Grid or the queue would retry.
 */
export class OutcomeRecording implements OutcomeRecorder {
  constructor(
    private readonly ledger: OutcomeRecorder,
    private readonly notifications: OutcomeRecorder[],
    private readonly onNotificationFailure: (error: unknown, outcome: RemediationOutcome) => void,
  ) {}

  async record(outcome: RemediationOutcome, context: OutcomeContext): Promise<void> {
    await Promise.all([
      this.ledger.record(outcome, context),
      ...this.notifications.map((n) => n.record(outcome, context).catch((e) => this.onNotificationFailure(e, outcome))),
    ]);
  }
}
