import { type CatalogueGrant, type CatalogueTarget, catalogueEntry, scopeBelowTarget, targetNameFrom } from '../arm/dapr-components';
import { environmentRefMatches, sameResourceGroup } from '../arm/managed-environments';
import { parseArmId, sameArmId } from '../arm/resource-id';
import { consentAdmits, type DaprOptions, tagScopeProblem, tagValue } from '../config';
import { AutopilotError } from '../errors';
import type { CallBudget } from './call-budget';
import type { DaprComponent, DaprEnvironmentApp, EnginePorts, FoundDaprTarget } from './ports';
import type {
  CosmosSqlRoleAssignmentPlan,
  DaprClientIdDecision,
  DaprComponentPlan,
  DaprPlan,
  IdentityState,
  Plan,
  PlanBlocker,
  PrincipalDescription,
  ResourceState,
  RoleAssignmentPlan,
} from './types';

/**
 * Dapr-aware grants. A Dapr sidecar authenticates its Azure components with the identity of the app it
 * runs in; each component's type says which metadata field names its target and what role it needs
 * (the catalogue, src/arm/dapr-components.ts). Whoever writes a component chooses that metadata, so a
 * target is granted only when Resource Graph finds exactly one resource of the catalogue's type by that
 * name, inside the rule's `dapr.targets` (the same check as a tag-derived scope). Anything else is
 * reported, never guessed.
 */

/** The azureClientId metadata field of the Dapr Azure auth profile (components-contrib builtin-authentication-profiles.yaml). */
export const AZURE_CLIENT_ID = 'azureClientId';

/** What the Dapr step read, kept beside the plan for the azureClientId decisions at apply. */
export interface DaprContext {
  components: DaprComponent[];
  apps: DaprEnvironmentApp[];
  options: DaprOptions;
}

interface PendingTarget {
  component: DaprComponentPlan;
  spec: CatalogueTarget;
  grant: CatalogueGrant;
  name: string;
  value: string;
  /** The path below the target the component names (a container, a queue, a database): the grant goes there. */
  below: string;
}

const blocker = (code: string, detail: string, remedy?: string): PlanBlocker => ({ code, detail, ...(remedy ? { remedy } : {}) });

/** The components a Dapr app loads: those scoped to its app id, or scoped to no app at all. */
export function componentsOfApp(components: readonly DaprComponent[], appId: string): DaprComponent[] {
  // Dapr app ids are matched exactly, as the sidecar matches them.
  return components.filter((c) => c.scopes.length === 0 || c.scopes.includes(appId));
}

export function metadataValue(component: DaprComponent, field: string): { value?: string; secretRef?: string } | undefined {
  const entry = component.metadata.find((m) => m.name.toLowerCase() === field.toLowerCase());
  return entry ? { value: entry.value, secretRef: entry.secretRef } : undefined;
}

/** Whether the component makes Dapr manage its own entities (per the catalogue's flag and default). */
function managesEntities(component: DaprComponent, spec: CatalogueTarget): boolean {
  const em = spec.entityManagement;
  if (!em) return false;
  const flag = metadataValue(component, em.field)?.value?.trim().toLowerCase() === 'true';
  return em.managesWhen === 'true' ? flag : !flag;
}

/** Reads one component against the catalogue and the rule: the targets to look up, or why not. */
function assessComponent(component: DaprComponent, options: DaprOptions): { plan: DaprComponentPlan; targets: PendingTarget[] } {
  const plan: DaprComponentPlan = {
    name: component.name,
    id: component.id,
    componentType: component.componentType,
    status: 'grants',
    targets: [],
    problems: [],
  };
  const entry = catalogueEntry(component.componentType);
  if (!entry) return { plan: { ...plan, status: 'unknown-type' }, targets: [] };
  if (!options.componentTypes.some((t) => t.toLowerCase() === entry.componentType.toLowerCase()))
    return { plan: { ...plan, status: 'not-honoured' }, targets: [] };
  const targets: PendingTarget[] = [];
  for (const spec of entry.targets) {
    const found = metadataValue(component, spec.field);
    if (!found || (found.value === undefined && found.secretRef === undefined) || found.value === '') {
      plan.problems.push(
        blocker(
          'DaprTargetMissing',
          `component '${component.name}' (${entry.componentType}) has no '${spec.field}' naming its ${spec.resourceType}`,
        ),
      );
      continue;
    }
    if (found.value === undefined) {
      plan.problems.push(
        blocker(
          'DaprTargetUnresolvable',
          `component '${component.name}' takes '${spec.field}' from secret '${found.secretRef}', which the product does not read`,
          `write '${spec.field}' as a plain value`,
        ),
      );
      continue;
    }
    let grant = spec.grant;
    if (managesEntities(component, spec)) {
      const em = spec.entityManagement!;
      if (!em.grant) {
        plan.problems.push(
          blocker(
            'DaprEntityManagementUnsupported',
            `component '${component.name}': ${em.why}`,
            `create the entities beforehand and set '${em.field}' accordingly`,
          ),
        );
        continue;
      }
      if (!options.entityManagement) {
        plan.problems.push(
          blocker(
            'DaprEntityManagementNotAllowed',
            `component '${component.name}': ${em.why}; the rule does not allow that role (dapr.entityManagement)`,
            `set '${em.field}: "${em.managesWhen === 'true' ? 'false' : 'true'}"' on the component, or allow dapr.entityManagement in the rule`,
          ),
        );
        continue;
      }
      grant = em.grant;
    }
    const named = targetNameFrom(spec, found.value);
    if ('problem' in named) {
      plan.problems.push(blocker('DaprTargetUnresolvable', `component '${component.name}': ${named.problem}`));
      continue;
    }
    // A role that replaces the target's own while Dapr manages entities is needed where it creates them:
    // on the target (a namespace), not on one entity of it.
    const below = grant === spec.grant ? scopeBelowTarget(spec, (field) => metadataValue(component, field)?.value) : { path: '' };
    if ('problem' in below) {
      plan.problems.push(
        blocker(
          'DaprScopeUnresolvable',
          `component '${component.name}' (${entry.componentType}): ${below.problem}; the product grants only at the narrowest scope the component names`,
          `write '${below.field}' as a plain value`,
        ),
      );
      continue;
    }
    targets.push({ component: plan, spec, grant, name: named.name, value: found.value, below: below.path });
  }
  return { plan, targets };
}

/** The subscriptions a target may be in: the rule's `dapr.targets.subscriptions`, or the app's own. */
function targetSubscriptions(options: DaprOptions, resource: ResourceState): string[] {
  const subs = (options.targets.subscriptions ?? ['{subscriptionId}']).map((s) =>
    (s === '{subscriptionId}' ? resource.subscriptionId : s).toLowerCase(),
  );
  return [...new Set(subs)];
}

/** Why a found target may not be granted, or undefined. */
function boundsProblem(found: FoundDaprTarget, options: DaprOptions, resource: ResourceState): string | undefined {
  const source = parseArmId(resource.id);
  const target = parseArmId(found.id);
  const problem = tagScopeProblem(target, options.targets, source);
  if (problem) return problem.replace(/tagScope\./g, 'dapr.targets.');
  if (options.targets.consentTag && !consentAdmits(tagValue(found.tags, options.targets.consentTag), target, source)) {
    return `its '${options.targets.consentTag}' tag does not list the app's subscription or resource group (${source.subscriptionId}/${source.resourceGroup})`;
  }
  return undefined;
}

/** A plan with a Dapr app's component grants, and what the Dapr step read (for azureClientId at apply). */
export interface DaprPlanning {
  plan: Plan;
  context: DaprContext;
}

/**
 * Reads the app's components (one list call) and looks their targets up (one Resource Graph query),
 * then plans the grants each needs: RBAC roles join `roleAssignments`, Cosmos DB data-plane roles
 * `dataPlaneRoleAssignments`, in a new plan (the one given is not changed). Read-only.
 */
export async function planDaprGrants(
  plan: Plan,
  resource: ResourceState,
  options: DaprOptions,
  ports: Pick<EnginePorts, 'dapr'>,
  budget: CallBudget,
): Promise<DaprPlanning | undefined> {
  const app = resource.dapr;
  if (!app) return undefined;
  if (!ports.dapr) throw new AutopilotError('DaprUnavailable', 'the rule has a dapr section but the app has no Dapr component port');
  // Decided from the app's id and the rules alone, before anything of the environment is read.
  const notHonoured = environmentProblem(app.environmentId, resource, options);
  if (notHonoured) return refusedApp(plan, app, [notHonoured], [], options);
  const all = await ports.dapr.listComponents(app.environmentId, budget);
  const used = componentsOfApp(all, app.appId);
  const assessed = used.map((c) => ({ ...assessComponent(c, options), unscoped: c.scopes.length === 0 }));
  const pending = assessed.flatMap((a) => a.targets);
  const lookups = [
    ...new Map(
      pending.map((t) => [`${t.spec.resourceType.toLowerCase()}|${t.name}`, { resourceType: t.spec.resourceType, name: t.name }]),
    ).values(),
  ];
  // The app's own subscription is always searched: the environment's other apps (for azureClientId)
  // live there; a target found there but outside dapr.targets is still refused by the bounds check.
  const subscriptions = [...new Set([...targetSubscriptions(options, resource), resource.subscriptionId.toLowerCase()])];
  const { targets: found, apps } = await ports.dapr.lookup({ subscriptions, targets: lookups, environmentId: app.environmentId }, budget);
  const duplicate = appIdProblem(app, apps, resource.id);
  if (duplicate) return refusedApp(plan, app, [duplicate], apps, options);
  const foreign = apps.find((a) => !sameResourceGroup(a.id, resource.id));
  const resolved = resolveTargets(pending, found, options, resource);
  const components: DaprComponentPlan[] = [];
  let grants: DaprGrants = {
    roleAssignments: [...plan.roleAssignments],
    dataPlaneRoleAssignments: [...(plan.dataPlaneRoleAssignments ?? [])],
  };
  for (const { plan: component, targets, unscoped } of assessed) {
    if (unscoped && foreign && options.unscopedComponents !== 'allow' && component.status === 'grants')
      component.problems.push(unscopedInSharedEnvironment(component, foreign));
    if (component.status === 'grants' && component.problems.length > 0) component.status = 'refused';
    if (component.status === 'grants') {
      for (const t of targets) grants = withGrants(grants, t, resolved.get(t)!);
    }
    component.targets = targets.map((t) => ({
      field: t.spec.field,
      value: t.value,
      resourceId: resolved.get(t)?.id,
      roles: rolesOf(t.grant),
    }));
    components.push(component);
  }
  const dapr: DaprPlan = { appId: app.appId, environmentId: app.environmentId, components };
  return { plan: { ...plan, ...grants, dapr }, context: { components: used, apps, options } };
}

/**
 * The plan with no component honoured, and why. The context lists no component, so nothing of the
 * environment is written either (azureClientId) or read as no longer wanted.
 */
function refusedApp(
  plan: Plan,
  app: { appId: string; environmentId: string },
  problems: PlanBlocker[],
  apps: DaprEnvironmentApp[],
  options: DaprOptions,
): DaprPlanning {
  const dapr: DaprPlan = { appId: app.appId, environmentId: app.environmentId, components: [], problems };
  return { plan: { ...plan, dapr }, context: { components: [], apps, options } };
}

/**
 * Why the rule does not honour the app's environment, or undefined. Apps of any resource group may
 * join an environment, and whoever can write the environment writes its components: only an
 * environment in the app's own resource group, or one the rule names, is trusted to speak for the app.
 */
function environmentProblem(environmentId: string, resource: ResourceState, options: DaprOptions): PlanBlocker | undefined {
  if (sameResourceGroup(environmentId, resource.id)) return undefined;
  if (options.environments.some((e) => environmentRefMatches(e, environmentId, resource.subscriptionId))) return undefined;
  return blocker(
    'DaprEnvironmentNotHonoured',
    `the app's managed environment ${environmentId} is not in the app's resource group nor named in the rule's dapr.environments, so none of its components is honoured`,
    "add the environment's id to dapr.environments in the rule, or run the app in an environment of its own resource group",
  );
}

const describeApp = (a: DaprEnvironmentApp) => `${a.id}${a.daprEnabled ? '' : ' (Dapr disabled)'}`;

/**
 * Why the app's Dapr app id does not identify it, or undefined. Components are scoped by app id, which
 * every app writes for itself: another app of the environment declaring the same id (even with Dapr
 * disabled, which its owner can turn on at will) would load the same components, so their grants
 * cannot be tied to this app. Compared case-insensitively: stricter than the sidecar's exact match.
 */
function appIdProblem(app: { appId: string; environmentId: string }, apps: readonly DaprEnvironmentApp[], resourceId: string) {
  const same = apps.filter((a) => !sameArmId(a.id, resourceId) && a.appId?.toLowerCase() === app.appId.toLowerCase());
  if (same.length === 0) return undefined;
  return blocker(
    'DaprAppIdNotUnique',
    `Dapr app id '${app.appId}' is also declared by ${same.map(describeApp).join(', ')} in environment ${app.environmentId}: its components cannot tell the apps apart, so none is honoured`,
    'give each app of the environment a Dapr app id of its own (configuration.dapr.appId), then write the app again',
  );
}

/** A component with no `scopes` in an environment shared with another resource group's app. */
function unscopedInSharedEnvironment(component: DaprComponentPlan, foreign: DaprEnvironmentApp): PlanBlocker {
  return blocker(
    'DaprUnscopedComponentShared',
    `component '${component.name}' has no scopes, so every app of the environment loads it, and the environment also hosts ${foreign.id} of another resource group`,
    'scope the component to the app ids that use it, or set dapr.unscopedComponents: allow in the rule',
  );
}

/** Each pending target's one resource, found and within the rule's bounds; problems go on its component. */
function resolveTargets(
  pending: PendingTarget[],
  found: FoundDaprTarget[],
  options: DaprOptions,
  resource: ResourceState,
): Map<PendingTarget, FoundDaprTarget> {
  const resolved = new Map<PendingTarget, FoundDaprTarget>();
  for (const t of pending) {
    const rows = found.filter((f) => f.type.toLowerCase() === t.spec.resourceType.toLowerCase() && f.name.toLowerCase() === t.name);
    const where = `in subscription(s) ${targetSubscriptions(options, resource).join(', ')}`;
    if (rows.length === 0) {
      t.component.problems.push(
        blocker(
          'DaprTargetNotFound',
          `component '${t.component.name}': no ${t.spec.resourceType} named '${t.name}' (from '${t.spec.field}') was found ${where}`,
          'check the name, or widen dapr.targets.subscriptions in the rule',
        ),
      );
      continue;
    }
    if (rows.length > 1) {
      t.component.problems.push(
        blocker(
          'DaprTargetAmbiguous',
          `component '${t.component.name}': ${rows.length} resources of type ${t.spec.resourceType} are named '${t.name}' ${where}`,
        ),
      );
      continue;
    }
    const problem = boundsProblem(rows[0]!, options, resource);
    if (problem) {
      t.component.problems.push(
        blocker(
          'DaprTargetOutOfBounds',
          `component '${t.component.name}': target ${problem}`,
          "only targets inside the rule's dapr.targets are granted",
        ),
      );
      continue;
    }
    resolved.set(t, rows[0]!);
  }
  return resolved;
}

const rolesOf = (grant: CatalogueGrant): string[] =>
  grant.kind === 'rbac' ? grant.roles.map((r) => r.name) : [`${grant.role.name} (Cosmos DB data plane)`];

interface DaprGrants {
  roleAssignments: RoleAssignmentPlan[];
  dataPlaneRoleAssignments: CosmosSqlRoleAssignmentPlan[];
}

/** The grants so far, with what one component target needs (a grant already there is not repeated). */
function withGrants(grants: DaprGrants, t: PendingTarget, target: FoundDaprTarget): DaprGrants {
  const source = `dapr:${t.component.name}`;
  // The narrowest scope the component names (catalogue `narrowTo`), never the whole target when it names less.
  const scope = `${target.id}${t.below}`;
  if (t.grant.kind === 'cosmos-sql') {
    const guid = t.grant.role.guid;
    if (grants.dataPlaneRoleAssignments.some((p) => sameArmId(p.scope, scope) && p.roleDefinitionGuid === guid)) return grants;
    const cosmos: CosmosSqlRoleAssignmentPlan = {
      kind: 'cosmos-sql',
      source,
      accountId: target.id,
      roleDefinitionGuid: guid,
      roleDisplayName: t.grant.role.name,
      scope,
    };
    return { ...grants, dataPlaneRoleAssignments: [...grants.dataPlaneRoleAssignments, cosmos] };
  }
  const added = t.grant.roles
    .filter((role) => !grants.roleAssignments.some((r) => sameArmId(r.scope, scope) && r.roleDefinitionGuid === role.guid))
    .map(
      (role): RoleAssignmentPlan => ({
        profile: source,
        role: { kind: 'builtin', roleDefinitionGuid: role.guid, displayName: role.name },
        roleDefinitionGuid: role.guid,
        roleDisplayName: role.name,
        scope,
      }),
    );
  return { ...grants, roleAssignments: [...grants.roleAssignments, ...added] };
}

/** Identities the workload holds after the write. */
export function identityCount(identity: IdentityState): number {
  return (identity.type.includes('SystemAssigned') ? 1 : 0) + identity.userAssigned.length;
}

/**
 * Whether Dapr must be told which identity to use: Container Apps requires `azureClientId` for any
 * component authenticating with a user-assigned identity (Learn: container-apps/dapr-components, "The
 * azureClientId metadata field ... is required for any component authenticating with user-assigned
 * managed identity"; microsoft/azure-container-apps#325: no user-assigned identity is picked implicitly).
 * Only an app whose one identity is system-assigned goes without.
 */
export function needsClientId(identity: IdentityState): boolean {
  return !identity.type.includes('SystemAssigned') || identityCount(identity) > 1;
}

/**
 * Whether each component the app uses must name the grantee's clientId in `azureClientId`, and whether
 * the product may write it: only when the grantee is a user-assigned identity Dapr cannot pick by
 * itself, every other app the component can serve carries that same identity, and the rule allows the write.
 */
export function decideClientIds(
  plan: Plan,
  context: DaprContext,
  grantee: PrincipalDescription | undefined,
  identity: IdentityState,
): DaprClientIdDecisions {
  const decisions = new Map<string, DaprClientIdDecision>();
  for (const component of plan.dapr?.components ?? []) {
    if (component.status !== 'grants') continue;
    const read = context.components.find((c) => sameArmId(c.id, component.id));
    if (read) decisions.set(component.id.toLowerCase(), decideClientId(read, context, plan, grantee, identity));
  }
  return decisions;
}

/** Each component's azureClientId decision, by component id (lower case). */
export type DaprClientIdDecisions = ReadonlyMap<string, DaprClientIdDecision>;

function decideClientId(
  component: DaprComponent,
  context: DaprContext,
  plan: Plan,
  grantee: PrincipalDescription | undefined,
  identity: IdentityState,
): DaprClientIdDecision {
  if (!grantee?.identityId)
    return { action: 'none', detail: 'the grants went to a system-assigned identity, which Dapr uses without azureClientId' };
  if (!needsClientId(identity))
    return { action: 'none', clientId: grantee.clientId, detail: 'the app has one identity, which Dapr uses without azureClientId' };
  const clientId = grantee.clientId;
  const current = metadataValue(component, AZURE_CLIENT_ID);
  if (current?.secretRef !== undefined)
    return {
      action: 'refused',
      clientId,
      detail: `'${AZURE_CLIENT_ID}' comes from secret '${current.secretRef}'; the product does not change it`,
    };
  if (!clientId)
    return { action: 'write', detail: "azureClientId must name the user-assigned identity's clientId, known once the identity exists" };
  if (current?.value?.toLowerCase() === clientId.toLowerCase())
    return { action: 'none', clientId, detail: `azureClientId already names ${clientId}` };
  if (current?.value) {
    return {
      action: 'conflict',
      clientId,
      detail: `azureClientId names another identity (${current.value}); the product does not overwrite it`,
    };
  }
  const unserved = appsNotServed(component, context, plan, clientId);
  if (unserved.length > 0) {
    return {
      action: 'conflict',
      clientId,
      detail: `the component can also serve ${unserved.join(', ')}, which do(es) not carry the identity ${clientId}: one azureClientId cannot serve them all`,
    };
  }
  const inline = component.secrets.filter((s) => !s.keyVaultUrl);
  if (inline.length > 0) {
    return {
      action: 'refused',
      clientId,
      detail: `the component holds secret(s) ${inline.map((s) => `'${s.name}'`).join(', ')} whose values Azure never returns, so a rewrite of it would drop them`,
    };
  }
  if (!context.options.azureClientId)
    return {
      action: 'refused',
      clientId,
      detail: `azureClientId should be ${clientId}; the rule does not allow the product to write it (dapr.azureClientId)`,
    };
  return { action: 'write', clientId, detail: `set azureClientId to ${clientId}` };
}

/**
 * Every app other than this one the component can serve and that does not carry the identity: for an
 * unscoped component every app of the environment (Dapr enabled or not: Dapr can be turned on at any
 * time); for a scoped one every app declaring an app id in its scopes, and each scoped app id no app
 * was found with (it may be created, or lie where the product cannot read, later: unknown is not agreed).
 */
function appsNotServed(component: DaprComponent, context: DaprContext, plan: Plan, clientId: string): string[] {
  const carries = (a: DaprEnvironmentApp) => a.userAssignedClientIds.some((c) => c.toLowerCase() === clientId.toLowerCase());
  const others = context.apps.filter((a) => !sameArmId(a.id, plan.resourceId));
  const label = (a: DaprEnvironmentApp) => `${a.appId ? `Dapr app '${a.appId}'` : 'app'} ${describeApp(a)}`;
  if (component.scopes.length === 0) return others.filter((a) => !carries(a)).map(label);
  const out: string[] = [];
  for (const scope of new Set(component.scopes)) {
    const holders = others.filter((a) => a.appId?.toLowerCase() === scope.toLowerCase());
    if (holders.length === 0 && scope !== plan.dapr?.appId) out.push(`Dapr app '${scope}' (no app of the environment was found with it)`);
    out.push(...holders.filter((a) => !carries(a)).map(label));
  }
  return out;
}

/** The Dapr findings of a plan as outcome `skipped` entries: what was not granted or written, and why. */
export function daprFindings(
  plan: Plan | undefined,
  decisions: DaprClientIdDecisions = new Map(),
): Array<{ reason: string; detail: string }> {
  if (!plan?.dapr) return [];
  const out: Array<{ reason: string; detail: string }> = (plan.dapr.problems ?? []).map((p) => ({
    reason: 'dapr-app-refused',
    detail: `${p.code}: ${p.detail}${p.remedy ? ` (${p.remedy})` : ''}`,
  }));
  for (const c of plan.dapr.components) {
    for (const p of c.problems)
      out.push({ reason: 'dapr-component-refused', detail: `${p.code}: ${p.detail}${p.remedy ? ` (${p.remedy})` : ''}` });
    const clientId = decisions.get(c.id.toLowerCase());
    if (clientId && (clientId.action === 'conflict' || clientId.action === 'refused')) {
      out.push({
        reason: clientId.action === 'conflict' ? 'dapr-client-id-conflict' : 'dapr-client-id-not-written',
        detail: `component '${c.name}': ${clientId.detail}`,
      });
    }
  }
  return out;
}
