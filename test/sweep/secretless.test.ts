/**
 * Issue 25 (secretless), items 1-2: through the real app (SDK clients over HTTPS to the emulator, the
 * Event Grid trigger for the grants), each component's method, its app's grant and age, the exact change,
 * and each target's readiness verdict, including unknown. A recognisable value planted in the components'
 * secrets and in a plain key field never reaches the result.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { ResourceGraphReader } from '../../src/sweep';
import { secretlessSection } from '../../src/sweep/secretless';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { seedDaprComponent } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { PLANTED, SECRETLESS_RULES as RULES, seedSecretlessEstate } from '../support/secretless-estate';

const RG = 'rg-secretless';
const ENV = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-demo`;

const env = useEmulator({ subscriptions: [SUB_A] });
const target = (type: string, name: string) => `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/${type}/${name}`;

describe('secretless: components and target readiness through the real app', () => {
  let app: Autopilot;
  let orders: string;
  const section = (soleConsumerScopes: string[] = []) => {
    const reader = new ResourceGraphReader(app.sweep.graph, {});
    return secretlessSection({ rules: app.rules, rows: (q) => reader.pages(q, [SUB_A]), dapr: app.ports.dapr!, soleConsumerScopes });
  };

  before(async () => {
    grantAppOwner(env.emulator);
    seedSecretlessEstate(env.emulator.state, PLANTED, RG, SUB_A);
    compileKql('resources | take 1');
    app = buildApp(env, rulesFor(RULES));
    orders = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerApp,
      name: 'ca-orders',
      tags: { dapr: 'system' },
    });
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.containerApp, name: 'ca-legacy' });
    const d = await deliver(app, resourceWriteEvent({ resourceId: orders }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome?.errors));
  });

  it("lists each component with its method, its app's grant and age, and the exact change", async () => {
    const s = await section();
    const byName = new Map(s.components.map((c) => [c.name, c]));
    const state = byName.get('orders-state')!;
    assert.equal(state.method, 'key');
    assert.equal(state.onKeys, true);
    assert.deepEqual(state.credentials, [{ field: 'accountKey', method: 'key', source: 'inline-secret' }]);
    const grant = state.apps[0]!.grants[0]!;
    assert.equal(state.apps[0]!.resourceId, orders);
    assert.equal(state.apps[0]!.governed, true);
    assert.equal(grant.status, 'held');
    assert.deepEqual(grant.roles, ['Storage Blob Data Contributor']);
    assert.ok(grant.since && grant.ageMinutes !== undefined && grant.ageMinutes >= 0);
    assert.deepEqual(state.change, { removeMetadata: ['accountKey'], removeSecrets: ['storage-key'], azureClientId: { action: 'keep' } });
    assert.equal(byName.get('orders-pubsub')!.method, 'managed-identity');
    assert.equal(byName.get('orders-pubsub')!.change, undefined);
    const legacy = byName.get('legacy-pubsub')!;
    assert.equal(legacy.method, 'connection-string');
    assert.equal(legacy.apps[0]!.governed, false);
    assert.equal(legacy.apps[0]!.grants[0]!.status, 'missing');
    assert.deepEqual(s.totals, { components: 3, onKeys: 2, targets: 3, ready: 0, notReady: 2, unknown: 0, alreadyOff: 1 });
    assert.ok(!JSON.stringify(s).includes(PLANTED), 'no secret value in the section');
  });

  it('says not-ready naming the key holder, already-off for Cosmos DB, and unknown or ready once no key consumer remains', async () => {
    let s = await section([`/subscriptions/${SUB_A}/resourceGroups/${RG}`]);
    const verdict = (name: string) => s.targets.find((t) => t.name === name)!;
    assert.equal(verdict('sb-secretless').verdict, 'not-ready');
    assert.match(verdict('sb-secretless').blockers.join(), /legacy-pubsub .*'connectionString' \(connection-string\)/);
    assert.equal(verdict('stsecretless').verdict, 'not-ready');
    assert.equal(verdict('stsecretless').flag, 'allowSharedKeyAccess: (not set)');
    assert.equal(verdict('cosmos-secretless').verdict, 'already-off');
    // The blob state store moves to the identity (as its owner would after the report).
    seedDaprComponent(env.emulator.state, ENV, 'orders-state', {
      componentType: 'state.azure.blobstorage',
      metadata: [
        { name: 'accountName', value: 'stsecretless' },
        { name: 'containerName', value: 'state' },
      ],
      scopes: ['ca-orders'],
    });
    s = await section();
    assert.equal(verdict('stsecretless').verdict, 'unknown', 'no key consumer seen, but nothing says none is unseen');
    assert.match(verdict('stsecretless').unknowns.join(), /consumers outside them cannot be seen/);
    s = await section([target('Microsoft.Storage/storageAccounts', 'stsecretless')]);
    assert.equal(verdict('stsecretless').verdict, 'ready');
    assert.equal(verdict('sb-secretless').verdict, 'not-ready');
  });

  it('is unknown when an environment cannot be listed (the app may not read it), even with the declaration', async () => {
    const fault = env.emulator.faults.add({
      method: 'GET',
      path: /daprComponents$/i,
      times: 1,
      action: { kind: 'error', status: 403, code: 'AuthorizationFailed' },
    });
    try {
      const s = await section([`/subscriptions/${SUB_A}`]);
      assert.equal(s.scan.complete, false);
      assert.equal(s.targets.find((t) => t.name === 'stsecretless')!.verdict, 'unknown');
    } finally {
      fault.remove();
    }
  });

  it('never asks for secret values: no listSecrets call, and Resource Graph hides component secrets', async () => {
    seedDaprComponent(env.emulator.state, ENV, 'inline-secret', {
      componentType: 'state.azure.tablestorage',
      metadata: [
        { name: 'accountName', value: 'stsecretless' },
        { name: 'tableName', value: 'orders' },
        { name: 'accountKey', secretRef: 'k' },
      ],
      secrets: [{ name: 'k', value: PLANTED }],
    });
    assert.ok(!JSON.stringify(await section()).includes(PLANTED));
    assert.ok(!env.emulator.requests.some((r) => /listSecrets/i.test(r.path)), 'no listSecrets');
    const reader = new ResourceGraphReader(app.sweep.graph, {});
    const rows = [];
    for await (const page of reader.pages("resources | where type =~ 'microsoft.app/managedenvironments/daprcomponents'", [SUB_A]))
      rows.push(...page);
    assert.ok(rows.length >= 1);
    assert.ok(!JSON.stringify(rows.filter((r) => String(r.name) !== 'legacy-pubsub')).includes(PLANTED));
  });
});
