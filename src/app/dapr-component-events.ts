import { parseArmId, sameArmId, tryParseArmId } from '../arm/resource-id';
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

/** The governed container apps the component is scoped to (one list call, one Resource Graph query). */
export async function appsUsingComponent(autopilot: Autopilot, componentId: string, signal: AbortSignal): Promise<string[]> {
  const component = daprComponentOf(componentId);
  const port = autopilot.ports.dapr;
  if (!component || !port || !autopilot.rules.rules.some((r) => r.dapr)) return [];
  const env = parseArmId(component.environmentId);
  const found = (await port.listComponents(component.environmentId, { signal })).find(
    (c) => c.name.toLowerCase() === component.name.toLowerCase(),
  );
  // Deleted since the event: the apps it was scoped to are found by the sweep, not guessed here.
  if (!found) return [];
  const subscriptions = autopilot.rules.scope.subscriptions.filter((s) => s.toLowerCase() === env.subscriptionId!.toLowerCase());
  if (subscriptions.length === 0) return [];
  const { apps } = await port.lookup({ subscriptions, targets: [], environmentId: component.environmentId }, { signal });
  return apps.filter((a) => componentsOfApp([found], a.appId).length > 0 && !sameArmId(a.id, componentId)).map((a) => a.id);
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
