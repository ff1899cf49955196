/**
 * Where the rules' bounds let the product act, as ARM scopes the deployment can assign a role at: the
 * resource groups (or, for a literal target, the resource) the rules can ever reach, and the whole
 * governed subscription only where a wildcard leaves no narrower answer. permissions.ts uses these to
 * hold each risky write and delete (federated credentials, identity deletes, Cosmos DB SQL role
 * assignments, Dapr component writes) only there, instead of across every governed subscription.
 *
 * Every function here reads the rules file only (trusted); nothing a resource creator writes enters.
 * Scopes outside the governed subscriptions are dropped: main.bicep's custom roles are assignable only
 * there, so the product could never act outside them anyway.
 */
import type { Rule, RulesConfig, TagScopeConstraint } from '../../src/config/types';

/** A set of ARM scopes (subscription ids and group names lower case); an unbounded part is the whole subscription. */
export type ScopeSet = Set<string>;

const GLOB = /[*?]/;
const RESOURCE_GROUP = '{resourceGroup}';
const SUBSCRIPTION_ID = '{subscriptionId}';

/**
 * The resource groups a rule's workloads can be in: the rule's own `match.resourceGroups` when every
 * entry is literal, else the governed scope's when those are, else undefined (any group).
 */
export function workloadResourceGroups(rule: Rule, config: RulesConfig): string[] | undefined {
  const literal = (groups: readonly string[]) => groups.length > 0 && groups.every((g) => !GLOB.test(g));
  if (literal(rule.match.resourceGroups)) return rule.match.resourceGroups.map((g) => g.toLowerCase());
  if (literal(config.scope.resourceGroups)) return config.scope.resourceGroups.map((g) => g.toLowerCase());
  return undefined;
}

/**
 * A resource group from an administrator's pattern (`{resourceGroup}` of the workload, literal text),
 * one per possible workload group; undefined when the pattern holds a glob or any other placeholder,
 * or uses `{resourceGroup}` while the rule's groups are unbounded.
 */
export function groupsFromPattern(pattern: string, workloadGroups: string[] | undefined): string[] | undefined {
  const rest = pattern.replaceAll(RESOURCE_GROUP, '');
  if (GLOB.test(rest) || rest.includes('{')) return undefined;
  if (!pattern.includes(RESOURCE_GROUP)) return [pattern.toLowerCase()];
  if (!workloadGroups) return undefined;
  return workloadGroups.map((g) => pattern.replaceAll(RESOURCE_GROUP, g).toLowerCase());
}

/** Adds each group in each subscription, or each whole subscription when `groups` is unbounded. */
export function addGroupScopes(into: ScopeSet, subscriptions: readonly string[], groups: readonly string[] | undefined): void {
  for (const sub of subscriptions) {
    if (!groups) into.add(`/subscriptions/${sub}`);
    else for (const g of groups) into.add(`/subscriptions/${sub}/resourceGroups/${g}`);
  }
}

/**
 * Where a target allowed by a `tagScope` (or a rule's `dapr.targets`) can be: its subscriptions
 * (default the workload's own, i.e. every governed one) and its resource groups (default any).
 */
export function constraintScopes(into: ScopeSet, constraint: TagScopeConstraint, workloadGroups: string[] | undefined, governed: string[]) {
  const subscriptions = new Set<string>();
  for (const s of constraint.subscriptions ?? [SUBSCRIPTION_ID]) {
    if (s === SUBSCRIPTION_ID) for (const g of governed) subscriptions.add(g);
    else if (governed.includes(s.toLowerCase())) subscriptions.add(s.toLowerCase());
  }
  // `resourceGroup` as a type lets the tag name a whole group; that group is then the scope, which the
  // group pattern bounds just the same. `subscription` as a type needs the whole subscription.
  const wholeSubscription = constraint.resourceTypes.some((t) => t.toLowerCase() === 'subscription');
  const groups = wholeSubscription || !constraint.resourceGroups ? undefined : unionOrUnbounded(constraint.resourceGroups, workloadGroups);
  addGroupScopes(into, [...subscriptions], groups);
}

function unionOrUnbounded(patterns: readonly string[], workloadGroups: string[] | undefined): string[] | undefined {
  const groups: string[] = [];
  for (const p of patterns) {
    const each = groupsFromPattern(p, workloadGroups);
    if (!each) return undefined;
    groups.push(...each);
  }
  return groups;
}

/**
 * Where a scope template written by the administrator (no tag) can land: the literal resource itself
 * when the template names one resource of `resourceType` outright (main.bicep can assign at such a
 * resource), its resource group when the group part is literal or `{resourceGroup}`, else the
 * governed subscriptions the template can name.
 */
export function templateScopes(
  into: ScopeSet,
  template: string,
  workloadGroups: string[] | undefined,
  governed: string[],
  resourceType?: string,
): void {
  const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+)(\/.*)?)?$/i.exec(template.trim());
  if (!m) {
    // `{resourceId}` and friends: the workload itself, anywhere its rule matches.
    addGroupScopes(into, governed, workloadGroups);
    return;
  }
  const [, subPart, groupPart, rest] = m;
  const subscriptions = subPart === SUBSCRIPTION_ID ? governed : governed.filter((g) => g === subPart!.toLowerCase());
  if (!groupPart) return addGroupScopes(into, subscriptions, undefined);
  const groups = groupsFromPattern(groupPart, workloadGroups);
  const oneResource =
    resourceType !== undefined &&
    rest !== undefined &&
    new RegExp(`^/providers/${resourceType.replaceAll('.', '\\.')}/[^/{}*?]+$`, 'i').test(rest);
  if (groups && oneResource && !groupPart.includes('{')) {
    for (const sub of subscriptions) into.add(`/subscriptions/${sub}/resourceGroups/${groups[0]}${rest}`);
    return;
  }
  addGroupScopes(into, subscriptions, groups);
}

/** The scopes in a stable order, without any that a wider one in the set already covers. */
export function narrowest(scopes: ScopeSet): string[] {
  const all = [...scopes];
  const within = (s: string, o: string) => s.toLowerCase().startsWith(`${o.toLowerCase()}/`);
  return all.filter((s) => !all.some((o) => o !== s && within(s, o))).sort();
}
