import type { ArmResourceId } from '../arm/resource-id';
import { globMatches } from './matching';
import type { TagScopeConstraint } from './types';

/**
 * Tag-derived scopes: the tagger chooses the value, the administrator chooses what it may be. Every
 * check here compares the resolved scope with the rule's `tagScope` declaration; the source resource
 * only contributes `{resourceGroup}` and `{subscriptionId}`, so "a vault in my own resource group" is
 * expressible without trusting anything the tagger wrote.
 */

export const TAG_SCOPE_PLACEHOLDERS = ['{resourceGroup}', '{subscriptionId}'] as const;

/** `{resourceGroup}`/`{subscriptionId}` of the source filled in. RG names cannot hold `*` or `?`, so the result stays the administrator's glob. */
function fillSource(pattern: string, source: ArmResourceId): string {
  return pattern
    .replace(/\{resourceGroup\}/g, source.resourceGroup ?? '\u0000')
    .replace(/\{subscriptionId\}/g, source.subscriptionId ?? '\u0000');
}

function isWord(value: string, word: 'resourceGroup' | 'subscription'): boolean {
  return value.toLowerCase() === word.toLowerCase();
}

/** Why `target` is outside what `constraint` allows for a workload `source`; undefined when allowed. */
export function tagScopeProblem(target: ArmResourceId, constraint: TagScopeConstraint, source: ArmResourceId): string | undefined {
  const types = constraint.resourceTypes;
  switch (target.kind) {
    case 'managementGroup':
      return 'a management group scope is never granted from a tag';
    case 'subscription':
      if (!types.some((t) => isWord(t, 'subscription')))
        return `'${target.id}' is a whole subscription, which tagScope.resourceTypes does not list ('subscription')`;
      break;
    case 'resourceGroup':
      if (!types.some((t) => isWord(t, 'resourceGroup')))
        return `'${target.id}' is a whole resource group, which tagScope.resourceTypes does not list ('resourceGroup')`;
      break;
    case 'resource': {
      const type = target.type ?? '';
      if (!types.some((t) => t.toLowerCase() === type.toLowerCase())) {
        return `'${target.id}' is a ${type}, which tagScope.resourceTypes does not list (${types.join(', ')})`;
      }
      if (!target.resourceGroup) return `'${target.id}' is not in a resource group`;
      break;
    }
  }
  const subscriptions = (constraint.subscriptions ?? ['{subscriptionId}']).map((s) => fillSource(s, source).toLowerCase());
  const sub = (target.subscriptionId ?? '').toLowerCase();
  if (!subscriptions.includes(sub)) {
    return `'${target.id}' is in subscription ${target.subscriptionId}, which tagScope.subscriptions does not allow for a workload in subscription ${source.subscriptionId}`;
  }
  if (target.kind !== 'subscription' && constraint.resourceGroups) {
    const rg = target.resourceGroup ?? '';
    if (!constraint.resourceGroups.some((g) => globMatches(fillSource(g, source), rg))) {
      return `'${target.id}' is in resource group '${rg}', which tagScope.resourceGroups does not allow for a workload in resource group '${source.resourceGroup}'`;
    }
  }
  return undefined;
}

/**
 * Whether the target's consent tag admits a workload `source`. Entries are comma-separated:
 * a subscription id, `<resourceGroup>` (in the target's subscription) or `<subscriptionId>/<resourceGroup>`;
 * resource group parts may be globs. The target's owner writes this tag, which is why it is trusted
 * to narrow, never to widen, what the administrator declared.
 */
export function consentAdmits(consent: string | undefined, target: ArmResourceId, source: ArmResourceId): boolean {
  if (consent === undefined) return false;
  const sourceSub = (source.subscriptionId ?? '').toLowerCase();
  const sourceRg = source.resourceGroup ?? '';
  return consent
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .some((entry) => {
      const slash = entry.indexOf('/');
      if (slash === -1) {
        if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(entry)) return entry.toLowerCase() === sourceSub;
        return sourceSub === (target.subscriptionId ?? '').toLowerCase() && globMatches(entry, sourceRg);
      }
      const sub = entry.slice(0, slash).toLowerCase();
      return sub === sourceSub && globMatches(entry.slice(slash + 1), sourceRg);
    });
}

/**
 * A target allowed in every resource group (a `resourceGroups` entry made only of `*`, or none at all
 * with `subscriptions`) and no `consentTag`: whoever can tag a workload can point it at any team's
 * vault (or account, ...) in the allowed subscriptions, and nothing the target's owner does stops it.
 * Allowed, since a platform team may mean it, but worth a warning that names the fix.
 */
export function overWideTagScopeReason(constraint: TagScopeConstraint): string | undefined {
  if (constraint.consentTag !== undefined) return undefined;
  const everyGroup = constraint.resourceGroups === undefined || constraint.resourceGroups.some((g) => /^\*+$/.test(g.trim()));
  if (!everyGroup) return undefined;
  const types = constraint.resourceTypes.filter((t) => t.toLowerCase() !== 'subscription');
  if (types.length === 0) return undefined; // only whole subscriptions: consentTag cannot apply, the type itself says it
  const where =
    constraint.resourceGroups === undefined ? 'no resourceGroups' : `resourceGroups ${JSON.stringify(constraint.resourceGroups)}`;
  return (
    `${where} and no consentTag: a tag can reach any ${types.join(', ')} in the allowed subscription(s), any team's included. ` +
    `Add consentTag (e.g. consentTag: identity-autopilot-consent) so a target's owner must list who may be granted on it, or name the resource groups`
  );
}
