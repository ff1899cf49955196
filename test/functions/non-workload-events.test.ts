import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedScopeResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { TRIGGER_RULES } from './rules.fixture';

const env = useEmulator();
const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';

describe('events that are not workload writes: extension resources ignored, tag writes re-evaluate the resource', () => {
  let app: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(TRIGGER_RULES), {}, { AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: `${env.emulator.url}/api/events` });
  });

  it('a diagnostic-settings write on a site is acknowledged as ignored: no ARM call, no ledger entry, no RemediationFailed', async () => {
    const site = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'app1',
    });
    const extension = `${site}/providers/Microsoft.Insights/diagnosticSettings/x`;
    const seq = env.emulator.lastSeq;
    const published = env.emulator.topic.received.length;
    const d = await deliver(
      app,
      resourceWriteEvent({ resourceId: extension, operationName: 'Microsoft.Insights/diagnosticSettings/write' }),
    );
    assert.equal(d.error, undefined, 'acknowledged, not redelivered');
    assert.equal(d.outcome, undefined, 'no remediation was attempted');
    const ignored = d.logs.find((l) => l.record.event === 'event.ignored')?.record;
    assert.equal(ignored?.reason, 'extension-resource');
    assert.match(ignored?.detail, /diagnosticSettings\/write/);
    assert.deepEqual(env.emulator.requestsSince(seq), []);
    assert.equal(env.emulator.topic.received.length, published, 'nothing published, RemediationFailed least of all');
    assert.deepEqual(await app.ledger.byResourceId(extension), []);
    assert.deepEqual(await app.ledger.byResourceId(site), []);
    // ...and other extension resources on a workload (a lock) the same way.
    const lock = await deliver(
      app,
      resourceWriteEvent({
        resourceId: `${site}/providers/Microsoft.Authorization/locks/nodelete`,
        operationName: 'Microsoft.Authorization/locks/write',
      }),
    );
    assert.equal(lock.outcome, undefined);
    assert.equal(lock.error, undefined);
  });

  it('a tag write re-evaluates the tagged resource, and the tag-selected profile is granted', async () => {
    const vault = seedScopeResource(
      env.emulator.state,
      `/subscriptions/${SUB_A}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-tags`,
    );
    const site = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-apps',
      type: SEED_TYPES.webApp,
      name: 'web-tagged-later',
    });
    const first = await deliver(app, resourceWriteEvent({ resourceId: site }));
    assert.equal(first.outcome?.status, 'remediated');
    const principalId = env.emulator.state.resource(site)!.body.identity.principalId;
    assert.ok(!env.emulator.state.assignmentsFor(principalId).some((a) => a.roleDefinitionGuid === KV_SECRETS_USER));
    // The IaC tool tags the site after creating it, through the Tags API.
    env.emulator.state.resource(site)!.body.tags = { 'autopilot-profiles': 'vault-secrets', 'kv-id': vault };
    const tagged = await deliver(
      app,
      resourceWriteEvent({
        resourceId: `${site}/providers/Microsoft.Resources/tags/default`,
        operationName: 'Microsoft.Resources/tags/write',
      }),
    );
    assert.equal(tagged.error, undefined, String(tagged.error));
    assert.equal(tagged.outcome?.status, 'remediated', JSON.stringify(tagged.outcome));
    assert.equal(tagged.outcome?.resourceId.toLowerCase(), site.toLowerCase(), 'the parent resource, not the tags extension');
    assert.deepEqual(
      env.emulator.state
        .assignmentsFor(principalId)
        .filter((a) => a.roleDefinitionGuid === KV_SECRETS_USER)
        .map((a) => a.scope.toLowerCase()),
      [vault.toLowerCase()],
    );
  });

  it('tag writes on a resource group, or on a type the rules do not govern, are ignored without an ARM call', async () => {
    const seq = env.emulator.lastSeq;
    const group = await deliver(
      app,
      resourceWriteEvent({
        resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg-apps/providers/Microsoft.Resources/tags/default`,
        operationName: 'Microsoft.Resources/tags/write',
      }),
    );
    assert.equal(group.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, 'not-a-workload');
    const storage = await deliver(
      app,
      resourceWriteEvent({
        resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg-apps/providers/Microsoft.Storage/storageAccounts/st1/providers/Microsoft.Resources/tags/default`,
        operationName: 'Microsoft.Resources/tags/write',
      }),
    );
    assert.equal(storage.logs.find((l) => l.record.event === 'event.ignored')?.record.reason, 'type-not-governed');
    assert.equal(group.outcome ?? storage.outcome, undefined);
    assert.deepEqual(env.emulator.requestsSince(seq), []);
  });
});
