import { subscriptionOf } from '../arm/resource-id';
import { type CleanUpHints, cleanUpDeleted } from '../engine/cleanup';
import type { RemediationOutcome } from '../engine/types';
import type { LedgerEntry } from '../ledger/types';
import type { StructuredLogger } from '../logging/logger';
import { isTransientOutcome, outcomeLogLevel, summarizeOutcome } from '../outcomes/summary';
import type { Autopilot } from './composition';

/**
 * The use case behind a ResourceDeleteSuccess event: clean up what the product made for a deleted
 * resource (src/engine/cleanup.ts decides, with ARM's proof), then log and record the outcome like any
 * remediation's (ledger row, outcome event, metrics), so every removal is as visible as a grant.
 * Idempotent: a redelivery finds what was removed absent.
 */
export interface CleanUpRun {
  resourceId: string;
  correlationId: string;
  eventId?: string;
  eventTime?: string;
  log: StructuredLogger;
}

export async function runCleanUp(autopilot: Autopilot, run: CleanUpRun): Promise<{ outcome: RemediationOutcome; redeliver: boolean }> {
  const signal = AbortSignal.timeout(autopilot.settings.budgetSeconds * 1000);
  const rows = await autopilot.ledger.byResourceId(run.resourceId);
  const subscriptions = (await autopilot.governance.resolved(signal)).scope.subscriptions;
  const outcome = await cleanUpDeleted(
    { resourceId: run.resourceId, correlationId: run.correlationId, subscriptions: [...subscriptions] },
    hintsFromLedger(run.resourceId, rows),
    autopilot.ports,
    { signal },
  );
  run.log.log(outcomeLogLevel(outcome), 'remediation.outcome', { lifecycle: 'clean-up', ...summarizeOutcome(outcome) });
  await autopilot.outcomes.record(outcome, { trigger: 'eventGrid', eventId: run.eventId, eventTime: run.eventTime });
  return { outcome, redeliver: isTransientOutcome(outcome) };
}

/**
 * Whom the product granted for the resource and what it made for it, from its own ledger rows (the
 * product writes them; still only hints: ARM proves each object before it is removed).
 */
export function hintsFromLedger(resourceId: string, rows: readonly LedgerEntry[]): CleanUpHints {
  const hints: CleanUpHints = { principals: [], subscriptions: [], cosmosAccounts: [], identities: [], credentials: [] };
  for (const row of rows) {
    if (row.principalId) hints.principals.push(row.principalId);
    if (row.grantee?.objectId) hints.principals.push(row.grantee.objectId);
    for (const action of row.actions as Array<Record<string, unknown>>) {
      if (action.kind === 'role-assigned' && typeof action.scope === 'string') hints.subscriptions.push(subscriptionOf(action.scope));
      if (action.kind === 'cosmos-role-assigned' && typeof action.accountId === 'string') hints.cosmosAccounts.push(action.accountId);
    }
    const ua = row.plan?.userAssignedIdentity;
    // Only an identity made for this very resource (a rule's shared identity belongs to the rule).
    if (ua && ua.owner.toLowerCase() === resourceId.toLowerCase()) {
      const made = row.actions.find((a) => (a as { identityId?: string }).identityId?.toLowerCase() === ua.id.toLowerCase()) as
        | { principalId?: string }
        | undefined;
      hints.identities.push({ identityId: ua.id, owner: ua.owner, principalId: made?.principalId });
    }
    for (const wi of row.plan?.workloadIdentities ?? []) {
      const result = row.workloadIdentities?.find((r) => r.serviceAccount === wi.serviceAccount);
      hints.identities.push({ identityId: wi.identity.id, owner: wi.identity.owner, principalId: result?.principalId });
      hints.credentials.push({ identityId: wi.identity.id, name: wi.credential.name });
    }
  }
  return dedupe(hints);
}

function dedupe(hints: CleanUpHints): CleanUpHints {
  const by = <T>(items: T[], key: (t: T) => string) => [...new Map(items.map((i) => [key(i).toLowerCase(), i])).values()];
  return {
    principals: by(hints.principals, (p) => p),
    subscriptions: by(hints.subscriptions, (s) => s),
    cosmosAccounts: by(hints.cosmosAccounts, (a) => a),
    identities: by(hints.identities, (i) => i.identityId),
    credentials: by(hints.credentials, (c) => `${c.identityId}|${c.name}`),
  };
}
