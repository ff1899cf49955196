/**
 * Issue 25 item 4: the opt-in migration of one component, through the real app against the emulator:
 * refused while the grant is younger than the propagation window, refused for a component holding a second
 * inline secret (a PUT would drop it), refused without the confirmation, and done when every precondition
 * holds: the key metadata and its secret are gone, the rest of the component is kept.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { ResourceGraphReader } from '../../src/sweep';
import { secretlessSection } from '../../src/sweep/secretless';
import { MigrationRefused, migrateComponent, migrationRefusal } from '../../src/sweep/secretless-migration';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { PLANTED, SECRETLESS_RULES, seedKeyStateStore, seedSecretlessEstate } from '../support/secretless-estate';

const RG = 'rg-migrate';
const ENV = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-demo`;
const env = useEmulator({ subscriptions: [SUB_A] });

describe('secretless: migrating a component to its identity', () => {
  let app: Autopilot;
  const later = new Date(Date.now() + 20 * 60_000);
  const section = (now?: Date) => {
    const reader = new ResourceGraphReader(app.sweep.graph, {});
    return secretlessSection({ rules: app.rules, rows: (q) => reader.pages(q, [SUB_A]), dapr: app.ports.dapr!, ...(now ? { now } : {}) });
  };
  const component = async (name: string, now?: Date) => (await section(now)).components.find((c) => c.name === name)!;
  const options = { confirmed: true, correlationId: 'c1', signal: AbortSignal.timeout(60_000) };

  before(async () => {
    grantAppOwner(env.emulator);
    seedSecretlessEstate(env.emulator.state, PLANTED, RG, SUB_A);
    seedKeyStateStore(env.emulator.state, ENV, 'two-secrets', {
      appId: 'ca-orders',
      planted: PLANTED,
      extraSecrets: [{ name: 'unrelated', value: 'another-write-only-value' }],
    });
    compileKql('resources | take 1');
    app = buildApp(env, rulesFor(SECRETLESS_RULES));
    const orders = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerApp,
      name: 'ca-orders',
      tags: { dapr: 'system' },
    });
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: orders }))).outcome?.status, 'remediated');
  });

  it('is refused while the grant is younger than the propagation window (15 minutes by default)', async () => {
    const c = await component('orders-state');
    assert.match(migrationRefusal(c) ?? '', /0 min old; role assignments take up to 15 min to apply/);
    await assert.rejects(migrateComponent(app.ports.dapr!, c, options), MigrationRefused);
  });

  it('is refused for a component holding a second inline secret, and without the confirmation', async () => {
    const two = await component('two-secrets', later);
    assert.match(migrationRefusal(two) ?? '', /holds other secrets \(unrelated\)/);
    const c = await component('orders-state', later);
    assert.equal(migrationRefusal(c), undefined);
    await assert.rejects(migrateComponent(app.ports.dapr!, c, { ...options, confirmed: false }), /confirm with --yes/);
  });

  it('happens once every precondition holds: the key and its secret are gone, the rest is kept', async () => {
    const c = await component('orders-state', later);
    const outcome = await migrateComponent(app.ports.dapr!, c, options);
    assert.equal(outcome.status, 'remediated');
    assert.match(
      JSON.stringify(outcome.actions),
      /DaprComponentMigrated.*accountKey removed; secret\(s\) storage-key removed; azureClientId unchanged/,
    );
    assert.ok(!JSON.stringify(outcome).includes(PLANTED));
    const body = env.emulator.state.resource(`${ENV}/daprComponents/orders-state`)!.body;
    assert.deepEqual(
      body.properties.metadata.map((m: { name: string }) => m.name),
      ['accountName', 'containerName'],
    );
    assert.deepEqual(body.properties.secrets ?? [], []);
    assert.equal(body.properties.componentType, 'state.azure.blobstorage');
    assert.deepEqual(body.properties.scopes, ['ca-orders']);
    assert.equal((await component('orders-state')).method, 'managed-identity');
  });
});
