import { catalogueEntry } from '../arm/dapr-components';
import { type CredentialMethod, LOCAL_AUTH_FLAGS } from '../arm/dapr-credentials';
import { parseArmId } from '../arm/resource-id';
import { evaluateGovernance, type RulesConfig, roleGuidFromDefinitionId } from '../config';
import { componentsOfApp } from '../engine/dapr';
import type { DaprComponent, DaprPort } from '../engine/ports';
import {
  type AppIdentities,
  type ComponentAuth,
  classifyComponent,
  type MigrationChange,
  migrationChange,
  type SeenComponent,
  type TargetReadiness,
  targetReadiness,
  usesLocalAuth,
} from '../engine/secretless';
import type { RowSource } from './compliance';
import { containerAppsQuery, localAuthTargetsQuery, managedEnvironmentsQuery, roleAssignmentsOfPrincipalsQuery } from './queries';

/**
 * The secretless section (issue 25): per Dapr component, how it authenticates and what would move it to
 * its app's identity; per target, whether its local authentication could be switched off. Reads only:
 * Resource Graph and one ARM list of each environment's components. Names, ids and dates only: no metadata
 * value or secret value is ever copied in (components' `metadata[].value` is read only to resolve a target
 * name field, which the catalogue holds to ARM's naming rules).
 */

type Json = Record<string, unknown>;

/** The only catalogued type that runs Dapr sidecars with Azure components (Container Apps' `configuration.dapr`). */
const DAPR_HOST_TYPE = 'Microsoft.App/containerApps';

export interface SecretlessGrant {
  /** `held`: the identity holds every role the identity path needs on the target; `not-checked`: Cosmos DB SQL roles. */
  status: 'held' | 'missing' | 'not-checked';
  roles: string[];
  /** When ARM created the newest of those assignments (the grant is complete since then). */
  since?: string;
  ageMinutes?: number;
}

export interface SecretlessApp {
  resourceId: string;
  daprAppId?: string;
  governed: boolean;
  /** The rule that governs the app (its `secretless` section decides whether the app migrates the component itself). */
  rule?: string;
  identities: AppIdentities;
  /** Per target field the component names (`accountName`): the app's grant there. */
  grants: Array<{ field: string; target: string } & SecretlessGrant>;
}

export interface SecretlessComponent {
  componentId: string;
  name: string;
  componentType: string;
  environmentId: string;
  method: CredentialMethod;
  onKeys: boolean;
  credentials: Array<{ field: string; method: CredentialMethod; source: string }>;
  otherSecretFields: string[];
  /** Inline (write-only) secrets the change would not remove: a rewrite could not keep their values. */
  keptInlineSecrets: string[];
  apps: SecretlessApp[];
  /** What moves it to the managed-identity profile (absent when it is already there). */
  change?: MigrationChange;
}

/** What the sweep did about a component whose rule opts in to `secretless.migrate` (src/sweep/secretless-migration.ts). */
export interface SecretlessMigration {
  componentId: string;
  name: string;
  status: 'migrated' | 'refused' | 'failed';
  detail: string;
}

export interface SecretlessSection {
  generatedAt: string;
  components: SecretlessComponent[];
  /** Present when the sweep considered migrating components (a rule opts in); one entry per such component. */
  migrations?: SecretlessMigration[];
  targets: TargetReadiness[];
  scan: { environments: number; failed: Array<{ environmentId: string; error: string }>; complete: boolean };
  totals: { components: number; onKeys: number; targets: number; ready: number; notReady: number; unknown: number; alreadyOff: number };
}

export interface SecretlessInput {
  rules: RulesConfig;
  rows: RowSource;
  dapr: DaprPort;
  /** Trusted scopes whose targets' keys only scanned components use (command line, app settings). */
  soleConsumerScopes?: readonly string[];
  now?: Date;
  signal?: AbortSignal;
}

interface AppRow {
  id: string;
  tags: Record<string, string>;
  environmentId: string;
  daprAppId?: string;
  identities: AppIdentities;
  principalIds: string[];
}

async function collect(rows: RowSource, query: string): Promise<Json[]> {
  const out: Json[] = [];
  for await (const page of rows(query)) out.push(...page);
  return out;
}

function appRow(r: Json): AppRow {
  const identity = (r.identity ?? {}) as Json;
  const uas = (identity.userAssignedIdentities ?? {}) as Record<string, { clientId?: unknown; principalId?: unknown }>;
  const type = String(identity.type ?? '').toLowerCase();
  const systemAssigned = type.includes('systemassigned');
  const principalIds = [
    ...(systemAssigned && typeof identity.principalId === 'string' ? [identity.principalId] : []),
    ...Object.values(uas).flatMap((u) => (typeof u?.principalId === 'string' ? [u.principalId] : [])),
  ].map((p) => p.toLowerCase());
  const dapr = (r.dapr ?? {}) as Json;
  return {
    id: String(r.id),
    tags: (r.tags && typeof r.tags === 'object' ? r.tags : {}) as Record<string, string>,
    environmentId: String(r.environmentId ?? ''),
    ...(typeof dapr.appId === 'string' && dapr.appId !== '' ? { daprAppId: dapr.appId } : {}),
    identities: {
      systemAssigned,
      userAssignedClientIds: Object.values(uas).flatMap((u) => (typeof u?.clientId === 'string' ? [u.clientId] : [])),
    },
    principalIds,
  };
}

/** Every environment's components, one ARM list each; a failed list makes the scan incomplete (and readiness unknown). */
async function listAll(dapr: DaprPort, environmentIds: string[], signal: AbortSignal) {
  const components: Array<{ environmentId: string; component: DaprComponent }> = [];
  const failed: SecretlessSection['scan']['failed'] = [];
  for (const environmentId of environmentIds) {
    try {
      for (const component of await dapr.listComponents(environmentId, { signal })) components.push({ environmentId, component });
    } catch (e) {
      failed.push({ environmentId, error: e instanceof Error ? e.message.slice(0, 300) : 'failed' });
    }
  }
  return { components, failed };
}

interface GrantRow {
  principalId: string;
  scope: string;
  roleGuid: string;
  createdOn?: string;
}

const within = (scope: string, target: string) => {
  const s = scope.toLowerCase();
  const t = target.toLowerCase();
  return t === s || t.startsWith(`${s}/`) || s.startsWith(`${t}/`);
};

/** The app's grant on one target: every role of the catalogue's identity path, on the target, above it, or narrowed inside it. */
function grantOn(app: AppRow, targetId: string, componentType: string, field: string, grants: GrantRow[], now: Date): SecretlessGrant {
  const spec = catalogueEntry(componentType)?.targets.find((t) => t.field === field);
  if (spec?.grant.kind !== 'rbac') return { status: 'not-checked', roles: spec?.grant.kind === 'cosmos-sql' ? [spec.grant.role.name] : [] };
  const roles = spec.grant.roles;
  for (const principal of app.principalIds) {
    const found = roles.map((role) =>
      grants.find((g) => g.principalId === principal && g.roleGuid === role.guid.toLowerCase() && within(g.scope, targetId)),
    );
    if (found.every((g) => g)) {
      const since = found
        .map((g) => g!.createdOn ?? '')
        .sort()
        .at(-1);
      const ageMinutes = since ? Math.floor((now.getTime() - Date.parse(since)) / 60_000) : undefined;
      return {
        status: 'held',
        roles: roles.map((r) => r.name),
        ...(since ? { since } : {}),
        ...(ageMinutes !== undefined && !Number.isNaN(ageMinutes) ? { ageMinutes } : {}),
      };
    }
  }
  return { status: 'missing', roles: roles.map((r) => r.name) };
}

/** One change for a component several apps may load: it can name one client id only. */
function changeFor(component: DaprComponent, auth: ComponentAuth, apps: AppRow[]): MigrationChange {
  if (apps.length === 1) return migrationChange(component, auth, apps[0]!.identities);
  const change = migrationChange(component, auth, { systemAssigned: true, userAssignedClientIds: [] });
  if (apps.length === 0) return { ...change, azureClientId: { action: 'choose', reason: 'no container app loads it' } };
  return apps.every((a) => a.identities.systemAssigned && a.identities.userAssignedClientIds.length === 0)
    ? change
    : { ...change, azureClientId: { action: 'choose', reason: 'several apps load it: one azureClientId cannot serve them all' } };
}

function governedBy(rules: RulesConfig, app: AppRow, now: Date): { governed: boolean; rule?: string } {
  const decision = evaluateGovernance(rules, parseArmId(app.id), app.tags, now);
  return decision.governed ? { governed: true, rule: decision.rule.name } : { governed: false };
}

function componentRow(
  env: { environmentId: string; component: DaprComponent },
  auth: ComponentAuth,
  ctx: { apps: AppRow[]; rules: RulesConfig; targets: Map<string, string>; grants: GrantRow[]; now: Date },
): SecretlessComponent {
  const { component } = env;
  const loaders = ctx.apps.filter(
    (a) =>
      a.environmentId.toLowerCase() === env.environmentId.toLowerCase() &&
      a.daprAppId &&
      componentsOfApp([component], a.daprAppId).length > 0,
  );
  const apps = loaders.map((a) => ({
    resourceId: a.id,
    ...(a.daprAppId ? { daprAppId: a.daprAppId } : {}),
    ...governedBy(ctx.rules, a, ctx.now),
    identities: a.identities,
    grants: auth.targets.flatMap((t) => {
      const id = t.name ? ctx.targets.get(`${t.resourceType}/${t.name}`.toLowerCase()) : undefined;
      return id ? [{ field: t.field, target: id, ...grantOn(a, id, component.componentType, t.field, ctx.grants, ctx.now) }] : [];
    }),
  }));
  const onKeys = usesLocalAuth(auth);
  const change = auth.method !== 'managed-identity' ? changeFor(component, auth, loaders) : undefined;
  const removed = new Set(change?.removeSecrets ?? []);
  return {
    componentId: component.id,
    name: component.name,
    componentType: component.componentType,
    environmentId: env.environmentId,
    method: auth.method,
    onKeys,
    credentials: auth.credentials.map((c) => ({ field: c.field, method: c.method, source: c.source })),
    otherSecretFields: auth.otherSecretFields,
    keptInlineSecrets: component.secrets.filter((s) => !s.keyVaultUrl && !removed.has(s.name)).map((s) => s.name),
    apps,
    ...(change ? { change } : {}),
  };
}

/** Builds the secretless section: the reads, then the pure judgement (src/engine/secretless.ts). */
export async function secretlessSection(input: SecretlessInput): Promise<SecretlessSection> {
  const now = input.now ?? new Date();
  const signal = input.signal ?? AbortSignal.timeout(10 * 60_000);
  const environments = (await collect(input.rows, managedEnvironmentsQuery())).map((r) => String(r.id));
  const apps = (await collect(input.rows, containerAppsQuery(DAPR_HOST_TYPE))).map(appRow);
  const targetRows = await collect(input.rows, localAuthTargetsQuery(Object.keys(LOCAL_AUTH_FLAGS)));
  const principals = [...new Set(apps.flatMap((a) => a.principalIds))];
  const grants: GrantRow[] =
    principals.length === 0
      ? []
      : (await collect(input.rows, roleAssignmentsOfPrincipalsQuery(principals, true))).flatMap((r) => {
          const guid = roleGuidFromDefinitionId(String(r.roleDefinitionId ?? ''));
          return guid
            ? [
                {
                  principalId: String(r.principalId),
                  scope: String(r.scope),
                  roleGuid: guid.toLowerCase(),
                  ...(r.createdOn ? { createdOn: String(r.createdOn) } : {}),
                },
              ]
            : [];
        });
  const { components, failed } = await listAll(input.dapr, environments, signal);
  const targets = new Map(targetRows.map((r) => [`${r.type}/${r.name}`.toLowerCase(), String(r.id)]));
  const seen: SeenComponent[] = [];
  const rows: SecretlessComponent[] = [];
  for (const env of components) {
    const auth = classifyComponent(env.component);
    if (!auth) continue;
    const c = env.component;
    seen.push({ id: c.id, name: c.name, environmentId: env.environmentId, componentType: c.componentType, auth });
    rows.push(componentRow(env, auth, { apps, rules: input.rules, targets, grants, now }));
  }
  const visibility = { soleConsumerScopes: input.soleConsumerScopes ?? [], scanComplete: failed.length === 0 };
  const readiness = targetRows.flatMap((r) => {
    const flag = LOCAL_AUTH_FLAGS[String(r.type).toLowerCase()];
    const t = targetReadiness(
      { id: String(r.id), type: String(r.type), name: String(r.name), flag: flag ? r[flag.property] : undefined },
      seen,
      visibility,
    );
    return t ? [t] : [];
  });
  return {
    generatedAt: now.toISOString(),
    components: rows,
    targets: readiness,
    scan: { environments: environments.length, failed, complete: failed.length === 0 },
    totals: totalsOf(rows, readiness),
  };
}

function totalsOf(components: SecretlessComponent[], targets: TargetReadiness[]): SecretlessSection['totals'] {
  const count = (v: TargetReadiness['verdict']) => targets.filter((t) => t.verdict === v).length;
  return {
    components: components.length,
    onKeys: components.filter((c) => c.onKeys).length,
    targets: targets.length,
    ready: count('ready'),
    notReady: count('not-ready'),
    unknown: count('unknown'),
    alreadyOff: count('already-off'),
  };
}

/**
 * The sweep's secretless section: only when a rule has a `dapr` section and the app can read components.
 * A failed read leaves the section out and says so in the log (the rest of the sweep stands); it never
 * reports a verdict it could not compute.
 */
export async function sweepSecretless(
  host: {
    ports: { dapr?: DaprPort };
    telemetry?: { secretlessComponentsOnKeys?(count: number): void };
  },
  rules: RulesConfig,
  rows: RowSource,
  options: { soleConsumerScopes?: readonly string[]; signal?: AbortSignal; log?: { log(level: 'warn', event: string, data: Json): void } },
): Promise<SecretlessSection | undefined> {
  const dapr = host.ports.dapr;
  if (!dapr || !rules.rules.some((r) => r.dapr)) return undefined;
  try {
    const section = await secretlessSection({ rules, rows, dapr, soleConsumerScopes: options.soleConsumerScopes, signal: options.signal });
    host.telemetry?.secretlessComponentsOnKeys?.(section.totals.onKeys);
    return section;
  } catch (e) {
    options.log?.log('warn', 'sweep.secretless.failed', { error: e instanceof Error ? e.message.slice(0, 300) : 'failed' });
    return undefined;
  }
}
