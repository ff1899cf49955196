import type { ArmResourceId } from '../arm/resource-id';
import { canonicalResourceType } from '../arm/resource-types';
import { describeExemption, exemptionFor } from './exemptions';
import { globMatches } from './glob';
import { tagValue } from './tags';
import { isGovernedSubscription } from './templates';
import type { RoleProfile, Rule, RuleMatch, RulesConfig } from './types';

export type SkipReason =
  | 'subscription-not-governed'
  | 'resource-group-not-governed'
  | 'type-not-governed'
  | 'child-resource'
  | 'opted-out'
  | 'no-matching-rule'
  /** The resource or its resource group carries `managedBy`: another service owns it (decided by the engine). */
  | 'platform-managed'
  /** An entry of the rules file's `exemptions:`, in force now, covers it (the detail names reason, category and expiry). */
  | 'exempted';

export { globMatches };

export type GovernanceDecision = { governed: true; rule: Rule } | { governed: false; reason: SkipReason; detail: string };

/**
 * Decides whether the product should touch a resource, and under which rule. Cheapest checks first.
 * `now` decides which exemptions are in force: callers pass the real time (tests a fixed one).
 */
export function evaluateGovernance(
  config: RulesConfig,
  resourceId: ArmResourceId,
  tags: Readonly<Record<string, string>> | undefined,
  now: Date,
): GovernanceDecision {
  const { scope } = config;
  const skip = (reason: SkipReason, detail: string): GovernanceDecision => ({ governed: false, reason, detail });

  if (!resourceId.subscriptionId || !isGovernedSubscription(resourceId.subscriptionId, scope.subscriptions)) {
    const where = scope.managementGroups?.length
      ? 'is not in scope.subscriptions nor under scope.managementGroups'
      : 'is not in scope.subscriptions';
    return skip('subscription-not-governed', `subscription ${resourceId.subscriptionId ?? '(none)'} ${where}`);
  }
  if (resourceId.kind !== 'resource') {
    return skip('type-not-governed', `'${resourceId.id}' is a ${resourceId.kind}, not a resource`);
  }
  const rg = resourceId.resourceGroup;
  if (!rg || !scope.resourceGroups.some((g) => globMatches(g, rg))) {
    return skip('resource-group-not-governed', `resource group '${rg ?? '(none)'}' matches none of scope.resourceGroups`);
  }
  const type = resourceId.type ? canonicalResourceType(resourceId.type) : undefined;
  // Before the scope's type check: a child the catalogue does not name ('Microsoft.Sql/servers/databases',
  // 'Microsoft.Web/sites/config') is better explained as a child than as an unknown type. Catalogued
  // children (deployment slots) are governed like any other type.
  if (resourceId.isChild && !type) {
    return skip(
      'child-resource',
      `'${resourceId.type}' is a child resource the product does not govern; only catalogued types get identities`,
    );
  }
  if (!type || !scope.resourceTypes.includes(type)) {
    return skip('type-not-governed', `type '${resourceId.type}' is not in scope.resourceTypes`);
  }
  // `scope.allowOptOut: false`: the tag is ignored, so a tag writer cannot take a resource out of governance.
  const optOut = scope.allowOptOut === false ? undefined : tagValue(tags, scope.optOutTag);
  // Any value opts out except an explicit "false", so `optout: ""` or `optout: yes` both work.
  if (optOut !== undefined && optOut.trim().toLowerCase() !== 'false') {
    return skip('opted-out', `the resource carries the '${scope.optOutTag}' tag`);
  }
  const rule = config.rules.find((r) => ruleMatches(r.match, type, rg, tags));
  if (!rule) return skip('no-matching-rule', `no rule matches this ${type} in resource group '${rg}'`);
  // After the rule: an exemption may name the rules it applies to.
  const exemption = exemptionFor(config.exemptions, resourceId, rule.name, now);
  if (exemption) return skip('exempted', describeExemption(exemption));
  return { governed: true, rule };
}

function ruleMatches(match: RuleMatch, type: string, resourceGroup: string, tags: Readonly<Record<string, string>> | undefined): boolean {
  if (!match.types.includes(type as RuleMatch['types'][number])) return false;
  if (!match.resourceGroups.some((g) => globMatches(g, resourceGroup))) return false;
  return Object.entries(match.tags).every(([name, wanted]) => {
    const actual = tagValue(tags, name);
    if (actual === undefined) return false;
    return wanted === '*' || actual.toLowerCase() === wanted.toLowerCase();
  });
}

export type ProfileSelection =
  | { ok: true; profiles: RoleProfile[] }
  | { ok: false; code: 'UnknownProfile' | 'ProfileNotSelectable'; detail: string };

/** Profile names from the profile tag: comma-separated, blanks ignored. */
export function profilesFromTag(config: RulesConfig, tags: Readonly<Record<string, string>> | undefined): string[] {
  const raw = tagValue(tags, config.scope.profileTag);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The profiles to apply: the rule's own, plus those picked by the profile tag or an HTTP caller.
 * Whoever can tag a resource or call the API is less trusted than the administrator, so they can
 * only choose among profiles the rule already names; anything else fails the whole selection
 * rather than being silently dropped, so the caller sees why.
 */
export function selectProfiles(
  config: RulesConfig,
  rule: Rule,
  tags: Readonly<Record<string, string>> | undefined,
  requested?: readonly string[],
): ProfileSelection {
  const names: string[] = [...rule.profiles];
  for (const name of profilesFromTag(config, tags)) {
    if (!config.profiles.has(name)) {
      return {
        ok: false,
        code: 'UnknownProfile',
        detail: `tag '${config.scope.profileTag}' names profile '${name}', which is not defined`,
      };
    }
    // Naming a profile the rule applies anyway is harmless (a no-op), so it is not an error.
    if (!rule.tagSelectableProfiles.includes(name) && !rule.profiles.includes(name)) {
      return {
        ok: false,
        code: 'ProfileNotSelectable',
        detail: `tag '${config.scope.profileTag}' names profile '${name}', which rule '${rule.name}' does not list in tagSelectableProfiles`,
      };
    }
    names.push(name);
  }
  for (const name of requested ?? []) {
    if (!config.profiles.has(name)) {
      return { ok: false, code: 'UnknownProfile', detail: `requested profile '${name}' is not defined` };
    }
    if (!rule.profiles.includes(name) && !rule.tagSelectableProfiles.includes(name)) {
      return { ok: false, code: 'ProfileNotSelectable', detail: `rule '${rule.name}' does not allow profile '${name}'` };
    }
    names.push(name);
  }
  const unique = [...new Set(names)];
  // rule.profiles were checked at load; a missing one here means a hand-built config.
  const missing = unique.find((n) => !config.profiles.has(n));
  if (missing) return { ok: false, code: 'UnknownProfile', detail: `rule '${rule.name}' names profile '${missing}', which is not defined` };
  return { ok: true, profiles: unique.map((n) => config.profiles.get(n)!) };
}
