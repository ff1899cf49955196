/**
 * Issue 14, items 1-6: a Dapr-enabled container app gets what each of its components needs, from the
 * catalogue, through the real Event Grid trigger, with the app holding exactly the grants infra/
 * derives from these rules (no Owner).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { DAPR_COMPONENT_CATALOGUE } from '../../src/arm/dapr-components';
import { InMemoryReportStore, runSweep } from '../../src/sweep';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { cosmosAssignments } from '../../tools/arm-emulator/handlers/cosmos-sql-rbac';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource, seedScopeResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { seedCosmosAccount, seedDaprComponent, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const RG = 'rg-dapr';
const ENV = seedEnvId(RG);
function seedEnvId(rg: string) {
  return `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-demo`;
}

const rulesYaml = (extra: string) => `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.App/containerApps]
profiles: {}
rules:
${extra}
`;

const SYSTEM_RULE = rulesYaml(`
  - name: dapr-apps
    match: { tags: { dapr: system } }
    identity: { kind: SystemAssigned }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}", "rg-shared"] }
  - name: dapr-ua
    match: { tags: { dapr: user } }
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
      azureClientId: true
  - name: dapr-owner
    match: { tags: { dapr: owner } }
    identity: { kind: SystemAssigned }
    dapr:
      componentTypes: [pubsub.azure.servicebus.topics]
      targets: { resourceGroups: ["{resourceGroup}"] }
      entityManagement: true
`);

const env = useEmulator();

const target = (type: string, name: string, rg = RG) => `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/${type}/${name}`;

/** Metadata naming `name` the way the catalogue field spells it. */
function spelled(_field: string, spelling: string, name: string, suffix = ''): string {
  if (spelling === 'url') return `https://${name}${suffix}${suffix === '.documents.azure.com' ? ':443/' : ''}`;
  if (spelling === 'host') return `${name}${suffix}`;
  return name;
}

describe('Dapr components: the catalogue grants, through the Event Grid trigger', () => {
  let app: Autopilot;

  before(() => {
    const rules = rulesFor(SYSTEM_RULE);
    const permissions = grantDerived(env, rules, SUB_A);
    // What infra derives for these rules: components read, every honoured target type read, and (as
    // scoped roles, held only where the rules' bounds allow) component writes for azureClientId and the
    // Cosmos DB data-plane assignment rights.
    for (const a of ['Microsoft.App/managedEnvironments/daprComponents/read', 'Microsoft.KeyVault/vaults/read']) {
      assert.ok(permissions.actions.includes(a), `derived permissions include ${a}`);
    }
    const scoped = permissions.scopedGrants.flatMap((g) => g.actions);
    for (const a of [
      'Microsoft.App/managedEnvironments/daprComponents/write',
      'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write',
      'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read',
    ]) {
      assert.ok(scoped.includes(a) && !permissions.actions.includes(a), `a scoped grant holds ${a}`);
    }
    seedManagedEnvironment(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'env-demo' });
    // The emulator's Resource Graph loads Microsoft's KQL parser (compiled to JavaScript) on first use,
    // which takes seconds on a busy machine; real Resource Graph answers in well under one. Load it now,
    // so no remediation's time budget pays for it.
    compileKql('resources | take 1');
    app = buildApp(env, rules);
  });

  /** A Dapr container app (appId = its name) tagged for one of the rules. */
  function daprApp(name: string, tag: string, identity?: Record<string, unknown>): string {
    return seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerApp,
      name,
      tags: { dapr: tag },
      ...(identity ? { identity } : {}),
    });
  }

  const principalOf = (id: string) => env.emulator.state.resource(id)!.body.identity.principalId as string;
  const rolesAt = (principalId: string, scope: string) =>
    env.emulator.state
      .assignmentsFor(principalId)
      .filter((a) => a.scope.toLowerCase() === scope.toLowerCase())
      .map((a) => a.roleDefinitionGuid)
      .sort();

  for (const entry of DAPR_COMPONENT_CATALOGUE) {
    it(`${entry.componentType}: exactly the catalogue's grants on its target(s)`, async () => {
      const slug = entry.componentType.replace(/[^a-z]/g, '').slice(-14);
      const appName = `ca-${slug}`;
      const metadata: Array<{ name: string; value: string }> = [];
      const targets: Array<{ id: string; guids: string[]; cosmos?: string }> = [];
      entry.targets.forEach((t, i) => {
        const name = `${t.resourceType.split('/')[0]!.split('.')[1]!.toLowerCase().slice(0, 6)}${slug}${i}`
          .replace(/[^a-z0-9]/g, '')
          .slice(0, 22);
        const id = target(t.resourceType, name);
        if (t.grant.kind === 'cosmos-sql') seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name });
        else seedScopeResource(env.emulator.state, id);
        metadata.push({ name: t.field, value: spelled(t.field, t.spelling, name, t.hostSuffixes?.[0] ?? '') });
        targets.push(
          t.grant.kind === 'rbac' ? { id, guids: t.grant.roles.map((r) => r.guid).sort() } : { id, guids: [], cosmos: t.grant.role.guid },
        );
      });
      // Service Bus creates entities unless told not to: here it is told not to.
      if (entry.targets.some((t) => t.entityManagement?.field === 'disableEntityManagement'))
        metadata.push({ name: 'disableEntityManagement', value: 'true' });
      seedDaprComponent(env.emulator.state, ENV, `c-${slug}`, { componentType: entry.componentType, metadata, scopes: [appName] });
      const id = daprApp(appName, 'system');
      const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
      const principal = principalOf(id);
      for (const t of targets) {
        assert.deepEqual(rolesAt(principal, t.id), t.guids, `RBAC roles on ${t.id}`);
        if (t.cosmos) {
          const held = cosmosAssignments(env.emulator.state, t.id).filter((a) => a.properties.principalId === principal);
          assert.equal(held.length, 1, 'one Cosmos DB SQL role assignment');
          assert.equal(held[0]!.properties.roleDefinitionId, `${t.id}/sqlRoleDefinitions/${t.cosmos}`);
          assert.equal(held[0]!.properties.scope, t.id);
        }
      }
    });
  }

  it('a Cosmos DB grant is made once: a redelivery finds it held and writes nothing', async () => {
    const account = seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'cosmos-once' });
    seedDaprComponent(env.emulator.state, ENV, 'state-once', {
      componentType: 'state.azure.cosmosdb',
      metadata: [
        { name: 'url', value: 'https://cosmos-once.documents.azure.com:443/' },
        { name: 'database', value: 'db' },
        { name: 'collection', value: 'c' },
      ],
      scopes: ['ca-once'],
    });
    const id = daprApp('ca-once', 'system');
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: id }))).outcome?.status, 'remediated');
    const before = env.emulator.lastSeq;
    const again = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(again.outcome?.status, 'compliant', JSON.stringify(again.outcome));
    assert.deepEqual(
      env.emulator.requestsSince(before, { writesOnly: true }).filter((r) => r.method !== 'POST'),
      [],
      'no write on the second delivery',
    );
    assert.equal(cosmosAssignments(env.emulator.state, account).length, 1);
  });

  it('an out-of-bounds target is refused and reported; the in-bounds one is still granted', async () => {
    const outside = seedScopeResource(env.emulator.state, target('Microsoft.KeyVault/vaults', 'kv-elsewhere', 'rg-other-team'));
    const inside = seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stinbounds'));
    seedDaprComponent(env.emulator.state, ENV, 'secrets-elsewhere', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-elsewhere' }],
      scopes: ['ca-bounds'],
    });
    seedDaprComponent(env.emulator.state, ENV, 'state-inbounds', {
      componentType: 'state.azure.blobstorage',
      metadata: [
        { name: 'accountName', value: 'stinbounds' },
        { name: 'containerName', value: 'state' },
      ],
      scopes: ['ca-bounds'],
    });
    const id = daprApp('ca-bounds', 'system');
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated');
    const principal = principalOf(id);
    assert.deepEqual(rolesAt(principal, outside), [], 'nothing on the vault outside dapr.targets');
    assert.deepEqual(rolesAt(principal, inside), ['ba92f5b4-2d11-453d-a403-e96b0029c9fe']);
    const refusal = d.outcome?.skipped.find((s: { reason: string }) => s.reason === 'dapr-component-refused');
    assert.match(refusal?.detail ?? '', /DaprTargetOutOfBounds: component 'secrets-elsewhere'.*rg-other-team/);
  });

  it('an unresolvable or missing target is reported, not guessed', async () => {
    seedDaprComponent(env.emulator.state, ENV, 'sb-wrong-host', {
      componentType: 'pubsub.azure.servicebus.topics',
      metadata: [
        { name: 'namespaceName', value: 'sb-demo.example.com' },
        { name: 'disableEntityManagement', value: 'true' },
      ],
      scopes: ['ca-guess'],
    });
    seedDaprComponent(env.emulator.state, ENV, 'kv-absent', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-nowhere' }],
      scopes: ['ca-guess'],
    });
    const id = daprApp('ca-guess', 'system');
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const details = (d.outcome?.skipped ?? []).map((s: { detail: string }) => s.detail).join('\n');
    assert.match(details, /DaprTargetUnresolvable: component 'sb-wrong-host'/);
    assert.match(details, /DaprTargetNotFound: component 'kv-absent'/);
    assert.deepEqual(env.emulator.state.assignmentsFor(principalOf(id)), []);
  });

  it('Service Bus managing its own entities needs Data Owner: refused without the opt-in, granted with it', async () => {
    const ns = seedScopeResource(env.emulator.state, target('Microsoft.ServiceBus/namespaces', 'sb-entities'));
    seedDaprComponent(env.emulator.state, ENV, 'pubsub-entities', {
      componentType: 'pubsub.azure.servicebus.topics',
      metadata: [{ name: 'namespaceName', value: 'sb-entities.servicebus.windows.net' }],
      scopes: ['ca-sb-plain', 'ca-sb-owner'],
    });
    const plain = daprApp('ca-sb-plain', 'system');
    const d1 = await deliver(app, resourceWriteEvent({ resourceId: plain }));
    assert.match(JSON.stringify(d1.outcome?.skipped), /DaprEntityManagementNotAllowed/);
    assert.deepEqual(rolesAt(principalOf(plain), ns), []);
    const owner = daprApp('ca-sb-owner', 'owner');
    await deliver(app, resourceWriteEvent({ resourceId: owner }));
    assert.deepEqual(rolesAt(principalOf(owner), ns), ['090c5cfd-751d-490a-894a-3ce6f1109419']);
  });

  it('a component write event rewires every governed app it is scoped to', async () => {
    const a1 = daprApp('ca-rewire-1', 'system');
    const a2 = daprApp('ca-rewire-2', 'system');
    await deliver(app, resourceWriteEvent({ resourceId: a1 }));
    await deliver(app, resourceWriteEvent({ resourceId: a2 }));
    const account = seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'strewire'));
    const component = seedDaprComponent(env.emulator.state, ENV, 'queue-rewire', {
      componentType: 'bindings.azure.storagequeues',
      metadata: [
        { name: 'accountName', value: 'strewire' },
        { name: 'queueName', value: 'q' },
      ],
      scopes: ['ca-rewire-1', 'ca-rewire-2'],
    });
    const d = await deliver(
      app,
      resourceWriteEvent({ resourceId: component, operationName: 'Microsoft.App/managedEnvironments/daprComponents/write' }),
    );
    assert.equal(d.error, undefined);
    const outcomes = d.logs.filter((l) => l.record.event === 'remediation.outcome').map((l) => l.record);
    assert.equal(outcomes.length, 2, JSON.stringify(d.logs.map((l) => l.record)));
    for (const a of [a1, a2]) assert.deepEqual(rolesAt(principalOf(a), account), ['974c5e8b-45b9-4653-ba55-5f855dd0fb88']);
  });

  it('azureClientId: set when the app has several identities and every scoped app carries the one granted', async () => {
    const other = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'id-preexisting' });
    seedScopeResource(env.emulator.state, target('Microsoft.KeyVault/vaults', 'kv-clientid'));
    const component = seedDaprComponent(env.emulator.state, ENV, 'secrets-clientid', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-clientid' }],
      scopes: ['ca-clientid'],
    });
    const id = daprApp('ca-clientid', 'user', { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const granted = env.emulator.state.resource(target('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-ca-clientid'))!.body
      .properties.clientId as string;
    const metadata = env.emulator.state.resource(component)!.body.properties.metadata as Array<{ name: string; value: string }>;
    assert.equal(metadata.find((m) => m.name === 'azureClientId')?.value, granted);
    assert.equal(d.outcome?.grantee.clientId, granted, 'the outcome shows the clientId of the identity that got the grants');
  });

  it('azureClientId: apps that disagree are reported and the component is not written', async () => {
    const other = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'id-shared-other' });
    seedScopeResource(env.emulator.state, target('Microsoft.KeyVault/vaults', 'kv-conflict'));
    const component = seedDaprComponent(env.emulator.state, ENV, 'secrets-conflict', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-conflict' }],
      scopes: ['ca-conflict-a', 'ca-conflict-b'],
    });
    daprApp('ca-conflict-b', 'none');
    const id = daprApp('ca-conflict-a', 'user', { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated');
    assert.match(JSON.stringify(d.outcome?.skipped), /dapr-client-id-conflict.*ca-conflict-b/);
    assert.deepEqual(
      env.emulator.requestsSince(before, { writesOnly: true }).filter((r) => /daprComponents/i.test(r.path)),
      [],
      'no component write',
    );
    const metadata = env.emulator.state.resource(component)!.body.properties.metadata as Array<{ name: string }>;
    assert.equal(
      metadata.some((m) => m.name === 'azureClientId'),
      false,
    );
  });

  it('azureClientId: never written into a component whose secret values a GET does not return', async () => {
    const other = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'id-secretive-other' });
    seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stsecretive'));
    const component = seedDaprComponent(env.emulator.state, ENV, 'state-secretive', {
      componentType: 'state.azure.blobstorage',
      metadata: [
        { name: 'accountName', value: 'stsecretive' },
        { name: 'containerName', value: 'state' },
        { name: 'accountKey', secretRef: 'storage-key' },
      ],
      secrets: [{ name: 'storage-key', value: 'a2V5LXZhbHVl' }],
      scopes: ['ca-secretive'],
    });
    const id = daprApp('ca-secretive', 'user', { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.match(JSON.stringify(d.outcome?.skipped), /dapr-client-id-not-written.*storage-key.*never returns/);
    assert.deepEqual(
      env.emulator.requestsSince(before, { writesOnly: true }).filter((r) => /daprComponents/i.test(r.path)),
      [],
      'no component write',
    );
    assert.equal(env.emulator.state.resource(component)!.body.properties.secrets[0].value, 'a2V5LXZhbHVl', 'the secret is intact');
    assert.doesNotMatch(JSON.stringify(d.logs), /a2V5LXZhbHVl/);
  });

  it('the sweep reports a removed component grant as a drift kind of its own', async () => {
    const account = seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stdrift'));
    seedDaprComponent(env.emulator.state, ENV, 'state-drift', {
      componentType: 'state.azure.tablestorage',
      metadata: [
        { name: 'accountName', value: 'stdrift' },
        { name: 'tableName', value: 't' },
      ],
      scopes: ['ca-drift'],
    });
    const id = daprApp('ca-drift', 'system');
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: id }))).outcome?.status, 'remediated');
    const sweepOnce = () =>
      runSweep(
        { rules: app.rules, ports: app.ports, sweep: { graph: app.sweep.graph, reports: new InMemoryReportStore() } },
        { reportOnly: true },
      );
    const finding = async () => (await sweepOnce()).findings.find((f) => f.resourceId.toLowerCase() === id.toLowerCase());
    assert.equal(await finding(), undefined, 'compliant right after the remediation');
    // Someone removes the grant the component needs.
    const grant = env.emulator.state.assignmentsFor(principalOf(id)).find((a) => a.scope.toLowerCase() === account.toLowerCase())!;
    env.emulator.state.roleAssignments.delete(grant.id.toLowerCase());
    const drift = await finding();
    assert.deepEqual(drift?.problems, ['dapr-component-grants-missing'], JSON.stringify(drift));
  });
});
