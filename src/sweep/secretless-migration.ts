import type { DaprPort } from '../engine/ports';
import type { RemediationOutcome } from '../engine/types';
import { AutopilotError } from '../errors';
import type { SecretlessComponent } from './secretless';

/**
 * Opt-in migration of one Dapr component to its app's identity (issue 25, item 4). It runs only when:
 * - every app that loads it holds every role of the identity path on every target, for longer than the
 *   propagation window (role assignments can take minutes to apply; default 15 minutes);
 * - the only secrets it holds are the credential being retired (a PUT replaces the whole component, and a GET
 *   hides inline secret values, so any other inline secret would be lost), and no other metadata comes from a secret;
 * - `azureClientId` needs no choice a person must make (several identities or apps);
 * - the caller confirmed the disruption (the app's replicas pick the component up again).
 * The old value is never read: the component is rewritten from its GET, without the removed fields.
 */
export const DEFAULT_PROPAGATION_MINUTES = 15;

export class MigrationRefused extends AutopilotError {
  constructor(detail: string) {
    super('SecretlessMigrationRefused', detail);
  }
}

/** Why the component may not be migrated now; undefined when every precondition holds. */
export function migrationRefusal(c: SecretlessComponent, windowMinutes = DEFAULT_PROPAGATION_MINUTES): string | undefined {
  if (!c.change) return `${c.name} already authenticates with its identity`;
  if (c.keptInlineSecrets.length > 0)
    return `${c.name} holds other secrets (${c.keptInlineSecrets.join(', ')}) whose values a GET does not return: rewriting it would drop them`;
  if (c.otherSecretFields.length > 0) return `${c.name} takes other metadata from secrets (${c.otherSecretFields.join(', ')})`;
  if (c.change.azureClientId.action === 'choose') return `${c.name}: ${c.change.azureClientId.reason}`;
  if (c.apps.length === 0) return `no container app loads ${c.name}: nothing proves an identity is ready for it`;
  for (const app of c.apps) {
    if (app.grants.length === 0) return `${app.resourceId}: no grant found on the component's targets`;
    for (const g of app.grants) {
      if (g.status !== 'held') return `${app.resourceId}: ${g.roles.join(' + ')} on ${g.target} is ${g.status}`;
      if (g.ageMinutes === undefined || g.ageMinutes < windowMinutes)
        return `${app.resourceId}: the grant on ${g.target} is ${g.ageMinutes ?? '?'} min old; role assignments take up to ${windowMinutes} min to apply`;
    }
  }
  return undefined;
}

/** Rewrites the component (after migrationRefusal said nothing) and returns the outcome to record (one ledger row). */
export async function migrateComponent(
  dapr: DaprPort,
  c: SecretlessComponent,
  options: { windowMinutes?: number; confirmed: boolean; correlationId: string; signal: AbortSignal },
): Promise<RemediationOutcome> {
  const refusal = migrationRefusal(c, options.windowMinutes);
  if (refusal) throw new MigrationRefused(refusal);
  if (!options.confirmed)
    throw new MigrationRefused(`migrating ${c.name} restarts the Dapr sidecars of the apps that load it: confirm with --yes`);
  if (!dapr.migrateComponent) throw new MigrationRefused('this app cannot write Dapr components');
  const started = Date.now();
  const change = c.change!;
  const id = change.azureClientId;
  await dapr.migrateComponent(
    c.componentId,
    {
      removeMetadata: change.removeMetadata,
      removeSecrets: change.removeSecrets,
      ...(id.action === 'set'
        ? { azureClientId: { set: id.clientId } }
        : id.action === 'remove'
          ? { azureClientId: 'remove' as const }
          : {}),
    },
    { signal: options.signal },
  );
  const clientId =
    id.action === 'set'
      ? `azureClientId set to ${id.clientId}`
      : id.action === 'remove'
        ? 'azureClientId removed'
        : 'azureClientId unchanged';
  const removedSecrets = change.removeSecrets.length > 0 ? `; secret(s) ${change.removeSecrets.join(', ')} removed` : '';
  return {
    correlationId: options.correlationId,
    resourceId: c.componentId,
    status: 'remediated',
    actions: [
      {
        kind: 'follow-up-done',
        code: 'DaprComponentMigrated',
        detail: `${c.name}: ${c.method} -> managed identity; metadata ${change.removeMetadata.join(', ')} removed${removedSecrets}; ${clientId}`,
      },
    ],
    skipped: [],
    errors: [],
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}
