import type { RulesConfig } from './types';

/** True when the rules name management groups, whose subscriptions are only known at run time. */
export function hasManagementGroups(config: Pick<RulesConfig, 'scope'>): boolean {
  return (config.scope.managementGroups?.length ?? 0) > 0;
}

/**
 * The rules as they apply now: the subscriptions ARM reported under `scope.managementGroups` are
 * governed like those listed in `scope.subscriptions`. Nothing else widens: a `tagScope.subscriptions`
 * list stays exactly what the administrator wrote (by default the workload's own subscription).
 */
export function withResolvedSubscriptions(config: RulesConfig, resolved: Iterable<string>): RulesConfig {
  const subscriptions = [...config.scope.subscriptions];
  const seen = new Set(subscriptions.map((s) => s.toLowerCase()));
  for (const s of resolved) {
    const lower = s.toLowerCase();
    if (!seen.has(lower)) {
      seen.add(lower);
      subscriptions.push(lower);
    }
  }
  if (subscriptions.length === config.scope.subscriptions.length) return config;
  return { ...config, scope: { ...config.scope, subscriptions } };
}
