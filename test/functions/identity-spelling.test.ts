import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator();

/**
 * Adding the system-assigned identity to a resource that has a user-assigned one writes the combined
 * kind, which each RP spec spells its own way; the emulator refuses any other spelling.
 */
const CASES = [
  { type: SEED_TYPES.webApp, spelled: 'SystemAssigned, UserAssigned' },
  { type: SEED_TYPES.virtualMachine, spelled: 'SystemAssigned, UserAssigned' },
  { type: SEED_TYPES.scaleSet, spelled: 'SystemAssigned, UserAssigned' },
  { type: SEED_TYPES.containerGroup, spelled: 'SystemAssigned, UserAssigned' },
  { type: SEED_TYPES.containerApp, spelled: 'SystemAssigned,UserAssigned' },
  // Same RPs, same enums: slots use the Web spelling, jobs Microsoft.App's (common-types v3).
  { type: SEED_TYPES.deploymentSlot, spelled: 'SystemAssigned, UserAssigned' },
  { type: SEED_TYPES.containerAppJob, spelled: 'SystemAssigned,UserAssigned' },
];

describe('identity type spelled the way each resource provider spells it', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(TRIGGER_RULES));
  });

  for (const c of CASES) {
    it(`${c.type}: writes "${c.spelled}" and keeps the user-assigned identity`, async () => {
      // `sites-slots` for a child type, so its names differ from its parent's.
      const name = c.type.split('/').slice(1).join('-').toLowerCase();
      const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', name: `id-${name}` });
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-apps',
        type: c.type,
        name: `spelled-${name}`,
        identity: { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } },
        // A Manual-policy scale set would end pending (test/functions/scale-set-upgrade.test.ts).
        ...(c.type === 'Microsoft.Compute/virtualMachineScaleSets' ? { upgradePolicy: 'Automatic' as const } : {}),
      });
      const seq = env.emulator.lastSeq;
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      const writes = env.emulator.requestsSince(seq, { writesOnly: true }).filter((r) => r.path.toLowerCase() === id.toLowerCase());
      assert.equal(writes.length, 1);
      assert.equal((writes[0]!.body as { identity: { type: string } }).identity.type, c.spelled, 'sent as the spec spells it');
      const identity = env.emulator.state.resource(id)!.body.identity;
      assert.equal(identity.type, c.spelled);
      assert.deepEqual(Object.keys(identity.userAssignedIdentities), [ua.id]);
      // The engine's own record stays in its one internal spelling, whatever the RP's.
      assert.equal(d.outcome!.identityAfter, 'SystemAssigned, UserAssigned');
    });
  }
});
