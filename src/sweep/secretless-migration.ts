import { randomUUID } from 'node:crypto';
import { environmentRefMatches, sameResourceGroup } from '../arm/managed-environments';
import { tryParseArmId } from '../arm/resource-id';
import { DEFAULT_PROPAGATION_MINUTES, type RulesConfig } from '../config';
import type { DaprPort } from '../engine/ports';
import type { RemediationOutcome } from '../engine/types';
import { AutopilotError } from '../errors';
import type { StructuredLogger } from '../logging/logger';
import type { OutcomeRecorder, TriggerKind } from '../outcomes/recorder';
import type { SecretlessComponent, SecretlessMigration, SecretlessSection } from './secretless';

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
export { DEFAULT_PROPAGATION_MINUTES };

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

/**
 * Whether the rules let the app migrate the component on its own (the rule's `secretless.migrate` is the
 * confirmation of the disruption, as `workload.allowRestart` is for container groups). Every app that loads
 * the component must be governed by a rule that opts in, and the component's environment must be one that
 * rule honours (the app's own resource group's, or one in its `dapr.environments`): the only environments
 * `infra:params` grants `daprComponents/write` on. Undefined: no loading app's rule opts in (nothing to do).
 */
export function ruleConsent(rules: RulesConfig, c: SecretlessComponent): undefined | { windowMinutes: number } | { refusal: string } {
  const ruleOf = (name: string | undefined) => rules.rules.find((r) => r.name === name);
  if (!c.apps.some((a) => ruleOf(a.rule)?.secretless?.migrate)) return undefined;
  let windowMinutes = 0;
  for (const app of c.apps) {
    const rule = ruleOf(app.rule);
    if (!rule?.secretless?.migrate)
      return {
        refusal: `${app.resourceId} also loads ${c.name}, and ${rule ? `its rule '${rule.name}'` : 'no rule of it'} does not opt in to secretless.migrate`,
      };
    const subscription = tryParseArmId(app.resourceId)?.subscriptionId ?? '';
    const honoured =
      sameResourceGroup(c.environmentId, app.resourceId) ||
      (rule.dapr?.environments ?? []).some((e) => environmentRefMatches(e, c.environmentId, subscription));
    if (!honoured)
      return { refusal: `${c.environmentId} is not in ${app.resourceId}'s resource group nor in rule '${rule.name}' dapr.environments` };
    windowMinutes = Math.max(windowMinutes, rule.secretless.windowMinutes);
  }
  return { windowMinutes };
}

export interface SweepMigrationHost {
  ports: { dapr?: DaprPort };
  /** Each migration is one outcome (ledger row, log line, event): without a recorder the app migrates nothing. */
  outcomes?: OutcomeRecorder;
}

/**
 * The sweep's part of item 4: each component whose rule opts in is migrated when every precondition of
 * migrationRefusal holds (the same function the CLI's `--migrate` goes through), else left as it is with the
 * reason. One entry per considered component; components no rule opts in for are not touched nor listed.
 */
export async function migrateOptedIn(
  host: SweepMigrationHost,
  rules: RulesConfig,
  section: SecretlessSection,
  options: { trigger: TriggerKind; signal?: AbortSignal; log?: StructuredLogger },
): Promise<SecretlessMigration[]> {
  const done: SecretlessMigration[] = [];
  for (const c of section.components) {
    if (!c.change) continue;
    const consent = ruleConsent(rules, c);
    if (!consent) continue;
    const entry = await migrateOne(host, c, consent, options);
    options.log?.log(entry.status === 'migrated' ? 'info' : 'warn', `sweep.secretless.${entry.status}`, { ...entry });
    done.push(entry);
  }
  return done;
}

async function migrateOne(
  host: SweepMigrationHost,
  c: SecretlessComponent,
  consent: { windowMinutes: number } | { refusal: string },
  options: { trigger: TriggerKind; signal?: AbortSignal },
): Promise<SecretlessMigration> {
  const base = { componentId: c.componentId, name: c.name };
  if ('refusal' in consent) return { ...base, status: 'refused', detail: consent.refusal };
  if (!host.ports.dapr || !host.outcomes)
    return { ...base, status: 'refused', detail: 'this app cannot write Dapr components or record outcomes' };
  try {
    const outcome = await migrateComponent(host.ports.dapr, c, {
      windowMinutes: consent.windowMinutes,
      confirmed: true,
      correlationId: randomUUID(),
      signal: options.signal ?? AbortSignal.timeout(5 * 60_000),
    });
    await host.outcomes.record(outcome, { trigger: options.trigger });
    const action = outcome.actions[0];
    return { ...base, status: 'migrated', detail: action && 'detail' in action ? String(action.detail) : 'migrated' };
  } catch (e) {
    if (e instanceof MigrationRefused) return { ...base, status: 'refused', detail: e.message };
    return { ...base, status: 'failed', detail: e instanceof Error ? e.message.slice(0, 300) : 'failed' };
  }
}
