import assert from 'node:assert/strict';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { deliver } from './app-fixture';
import { type EmulatorFixture, SUB_A } from './emulator-fixture';

/** Rules for the lifecycle tests: web apps get Reader on their resource group, with the identity given. */
export const webReaderRules = (identity = '{ kind: SystemAssigned }') => `
version: 1
scope: { subscriptions: ["${SUB_A}"] }
profiles:
  reader:
    roles:
      - { role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }
rules:
  - name: web
    match: { types: ["Microsoft.Web/sites"] }
    identity: ${identity}
    profiles: [reader]
`;

/** A web app seeded and remediated through the Event Grid trigger: its id and the principal that got the roles. */
export async function remediatedWebApp(env: EmulatorFixture, app: Autopilot, rg: string, name: string) {
  const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: rg, type: SEED_TYPES.webApp, name });
  const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
  assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
  return { id, principalId: String(d.outcome!.principalId) };
}

/** The paths of the DELETE requests since `from`, lower case. */
export const deletesSince = (env: EmulatorFixture, from: number) =>
  env.emulator
    .requestsSince(from)
    .filter((r) => r.method === 'DELETE')
    .map((r) => r.path.toLowerCase());
