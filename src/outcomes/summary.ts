import type { LogLevel } from '../logging/logger';
import type { RemediationOutcome } from '../engine/types';

/** The one structured line each outcome gets. */
export function summarizeOutcome(outcome: RemediationOutcome): Record<string, unknown> {
  return {
    status: outcome.status,
    resourceId: outcome.resourceId,
    resourceType: outcome.resourceType,
    correlationId: outcome.correlationId,
    rule: outcome.rule,
    mode: outcome.mode,
    principalId: outcome.principalId,
    grantee: outcome.grantee,
    ...(outcome.workloadIdentities ? { workloadIdentities: outcome.workloadIdentities } : {}),
    identityBefore: outcome.identityBefore,
    identityAfter: outcome.identityAfter,
    actions: outcome.actions,
    skipped: outcome.skipped,
    blockers: outcome.blockers,
    errors: outcome.errors,
    deferral: outcome.deferral && {
      reason: outcome.deferral.reason,
      detail: outcome.deferral.detail,
      retryAfterSeconds: Math.ceil(outcome.deferral.retryAfterMs / 1000),
      attempt: outcome.deferral.resume.attempt,
    },
    // A Dapr app: what each component got, and whether its azureClientId names the grantee.
    dapr: outcome.plan?.dapr && {
      appId: outcome.plan.dapr.appId,
      components: outcome.plan.dapr.components.map((c) => ({ name: c.name, componentType: c.componentType, status: c.status, targets: c.targets, clientId: c.clientId })),
    },
    durationMs: outcome.durationMs,
  };
}

export function outcomeLogLevel(outcome: RemediationOutcome): LogLevel {
  if (outcome.status === 'failed') return outcome.errors.every((e) => e.transient) ? 'warn' : 'error';
  // Both need a person: the product will not make the change, or the workload cannot use it yet.
  if (outcome.status === 'blocked' || outcome.status === 'pending') return 'warn';
  return 'info';
}

/** Worth another delivery: every error is transient (throttling, server errors, replication, deadline). */
export function isTransientOutcome(outcome: RemediationOutcome): boolean {
  return outcome.status === 'failed' && outcome.errors.length > 0 && outcome.errors.every((e) => e.transient);
}
