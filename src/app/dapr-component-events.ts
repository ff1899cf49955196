import { environmentRefMatches } from '../arm/managed-environments';
import { parseArmId, sameArmId, tryParseArmId } from '../arm/resource-id';
import { globMatches, isGovernedSubscriptionId as isGovernedSubscription } from '../config';
import { componentsOfApp } from '../engine/dapr';
import type { Autopilot } from './composition';

/**
 * A write of a Dapr component (`Microsoft.App/managedEnvironments/daprComponents/write`) changes what
 * every app it is scoped to needs: this finds those apps, so each is remediated as if it had been
 * written itself. Only rules with a `dapr` section read components, so without one nothing is found.
 */
const COMPONENT_ID =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.App\/managedEnvironments\/[^/]+)\/daprComponents\/([^/]+)$/i;

/** The environment and component name of a Dapr component id, or undefined for any other id. */
export function daprComponentOf(resourceId: string): { environmentId: string; name: string } | undefined {
  const m = COMPONENT_ID.exec(resourceId);
  if (!m || !tryParseArmId(m[1])) return undefined;
  return { environmentId: m[1]!, name: m[2]! };
}

/**
 * Why a component write is none of the product's business, told from its id and the rules alone (no
 * call to the environment), or undefined. Only rules with a `dapr` section read components, and an app
 * honours only an environment of its own resource group or one its rule names (src/engine/dapr.ts), so
 * an environment outside the governed subscriptions and resource groups that no rule names is ignored
 * like any other out-of-scope write: acknowledged, never read (the app may not even be allowed to).
 */
export async function componentEventSkip(
  autopilot: Pick<Autopilot, 'rules' | 'governance'>,
  componentId: string,
  signal: AbortSignal,
): Promise<{ reason: string; detail: string } | undefined> {
  const component = daprComponentOf(componentId);
  const daprRules = autopilot.rules.rules.filter((r) => r.dapr);
  if (!component || daprRules.length === 0)
    return { reason: 'no-dapr-rule', detail: 'no rule has a dapr section, so no Dapr component is read' };
  const env = parseArmId(component.environmentId);
  // Under management groups this may resolve them (cached): the governance check itself, not a read of the environment.
  const { scope } = await autopilot.governance.configFor(env.subscriptionId, signal);
  if (!isGovernedSubscription(env.subscriptionId!, scope.subscriptions)) {
    return {
      reason: 'subscription-not-governed',
      detail: `the component's environment is in subscription ${env.subscriptionId}, which is not governed`,
    };
  }
  const declared = daprRules.some((r) => r.dapr!.environments.some((e) => environmentRefMatches(e, env.id, env.subscriptionId!)));
  if (!declared && !scope.resourceGroups.some((g) => globMatches(g, env.resourceGroup!))) {
    return {
      reason: 'environment-not-governed',
      detail: `environment ${env.id} is in resource group '${env.resourceGroup}', which matches none of scope.resourceGroups, and no rule names it in dapr.environments`,
    };
  }
  return undefined;
}

/**
 * The container apps of the environment whose sidecar loads the component (one list call, one Resource
 * Graph query). Call only for a component `componentEventSkip` did not skip.
 */
export async function appsUsingComponent(autopilot: Autopilot, componentId: string, signal: AbortSignal): Promise<string[]> {
  const component = daprComponentOf(componentId);
  const port = autopilot.ports.dapr;
  if (!component || !port) return [];
  const found = (await port.listComponents(component.environmentId, { signal })).find(
    (c) => c.name.toLowerCase() === component.name.toLowerCase(),
  );
  // Deleted since the event: the apps it was scoped to are found by the sweep, not guessed here.
  if (!found) return [];
  const subscriptions = [parseArmId(component.environmentId).subscriptionId!];
  const { apps } = await port.lookup({ subscriptions, targets: [], environmentId: component.environmentId }, { signal });
  // Only apps whose sidecar loads it now: one with Dapr off is remediated on its own write when it turns Dapr on.
  return apps
    .filter((a) => a.daprEnabled && a.appId !== undefined && componentsOfApp([found], a.appId).length > 0 && !sameArmId(a.id, componentId))
    .map((a) => a.id);
}

/**
 * After a component delete event: the Dapr apps of its environment, to be planned again (what they need
 * shrinks). The deleted component's scopes are gone with it, so every Dapr app of the environment is
 * planned; nothing at all when ARM still lists the component (a forged or late event).
 */
export async function appsAfterComponentDelete(autopilot: Autopilot, componentId: string, signal: AbortSignal): Promise<string[]> {
  const component = daprComponentOf(componentId);
  const port = autopilot.ports.dapr;
  if (!component || !port || !autopilot.rules.rules.some((r) => r.dapr)) return [];
  const env = parseArmId(component.environmentId);
  const components = await port.listComponents(component.environmentId, { signal });
  if (components.some((c) => c.name.toLowerCase() === component.name.toLowerCase())) return [];
  const subscriptions = autopilot.rules.scope.subscriptions.filter((s) => s.toLowerCase() === env.subscriptionId!.toLowerCase());
  if (subscriptions.length === 0) return [];
  const { apps } = await port.lookup({ subscriptions, targets: [], environmentId: component.environmentId }, { signal });
  return apps.map((a) => a.id);
}
