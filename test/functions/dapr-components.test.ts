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
import { SEED_TYPES, seedChildScope, seedResource, seedScopeResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { seedCosmosAccount, seedDaprApp, seedDaprComponent, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';

const RG = 'rg-dapr';
const ENV = seedEnvId(RG);
/** A platform team's environment that apps of several resource groups join. */
const SHARED_ENV = `/subscriptions/${SUB_A}/resourceGroups/rg-platform/providers/Microsoft.App/managedEnvironments/env-shared`;
const KEY_VAULT_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
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
      componentTypes: [pubsub.azure.servicebus.topics, bindings.azure.servicebusqueues]
      targets: { resourceGroups: ["{resourceGroup}"] }
      entityManagement: true
  - name: dapr-shared
    match: { tags: { dapr: shared } }
    identity: { kind: SystemAssigned }
    dapr:
      environments: ["${SHARED_ENV}"]
      targets: { resourceGroups: ["{resourceGroup}", "rg-shared"] }
  - name: dapr-shared-open
    match: { tags: { dapr: shared-open } }
    identity: { kind: SystemAssigned }
    dapr:
      environments: [env-shared]
      targets: { resourceGroups: ["{resourceGroup}", "rg-shared"] }
      unscopedComponents: allow
`);

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });

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
    seedManagedEnvironment(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-platform', name: 'env-shared' });
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
      // `id`: the target; `scope`: the narrowest scope its metadata names (a container, a queue, a table,
      // a Cosmos DB container), where the grant must be, and nothing on the target itself when narrower.
      const targets: Array<{ id: string; scope: string; guids: string[]; cosmos?: string }> = [];
      entry.targets.forEach((t, i) => {
        const name = `${t.resourceType.split('/')[0]!.split('.')[1]!.toLowerCase().slice(0, 6)}${slug}${i}`
          .replace(/[^a-z0-9]/g, '')
          .slice(0, 22);
        const id = target(t.resourceType, name);
        if (t.grant.kind === 'cosmos-sql') seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name });
        else seedScopeResource(env.emulator.state, id);
        metadata.push({ name: t.field, value: spelled(t.field, t.spelling, name, t.hostSuffixes?.[0] ?? '') });
        let below = '';
        for (const level of t.narrowTo?.levels ?? []) {
          const childName = level.field === 'tableName' ? 'daprstate' : `dapr-${level.path.split('/').pop()}`;
          metadata.push({ name: level.field, value: childName });
          below += `/${level.path}/${childName}`;
        }
        const scope = below && t.grant.kind === 'rbac' ? seedChildScope(env.emulator.state, id, below) : `${id}${below}`;
        targets.push(
          t.grant.kind === 'rbac'
            ? { id, scope, guids: t.grant.roles.map((r) => r.guid).sort() }
            : { id, scope, guids: [], cosmos: t.grant.role.guid },
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
        assert.deepEqual(rolesAt(principal, t.scope), t.guids, `RBAC roles on ${t.scope}`);
        if (t.scope !== t.id) assert.deepEqual(rolesAt(principal, t.id), [], `nothing on the whole of ${t.id}`);
        if (t.cosmos) {
          const held = cosmosAssignments(env.emulator.state, t.id).filter((a) => a.properties.principalId === principal);
          assert.equal(held.length, 1, 'one Cosmos DB SQL role assignment');
          assert.equal(held[0]!.properties.roleDefinitionId, `${t.id}/sqlRoleDefinitions/${t.cosmos}`);
          assert.equal(held[0]!.properties.scope, t.scope, 'at the database and container the component names');
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
    const inside = seedChildScope(
      env.emulator.state,
      seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stinbounds')),
      'blobServices/default/containers/state',
    );
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

  it('issue 23 item 3: a component naming one container is granted on it alone; a child name that climbs, or comes from a secret, is refused', async () => {
    const account = seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stnarrow'));
    const container = seedChildScope(env.emulator.state, account, 'blobServices/default/containers/state');
    seedChildScope(env.emulator.state, account, 'blobServices/default/containers/other-team');
    const cosmos = seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'cosmos-narrow' });
    seedDaprComponent(env.emulator.state, ENV, 'state-narrow', {
      componentType: 'state.azure.blobstorage',
      metadata: [
        { name: 'accountName', value: 'stnarrow' },
        { name: 'containerName', value: 'state' },
      ],
      scopes: ['ca-narrow'],
    });
    seedDaprComponent(env.emulator.state, ENV, 'blob-climb', {
      componentType: 'bindings.azure.blobstorage',
      metadata: [
        { name: 'accountName', value: 'stnarrow' },
        { name: 'containerName', value: 'state/../other-team' },
      ],
      scopes: ['ca-narrow'],
    });
    seedDaprComponent(env.emulator.state, ENV, 'cosmos-secret-coll', {
      componentType: 'state.azure.cosmosdb',
      metadata: [
        { name: 'url', value: 'https://cosmos-narrow.documents.azure.com:443/' },
        { name: 'database', value: 'orders' },
        { name: 'collection', secretRef: 'which-collection' },
      ],
      scopes: ['ca-narrow'],
    });
    const id = daprApp('ca-narrow', 'system');
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    const principal = principalOf(id);
    assert.deepEqual(rolesAt(principal, container), ['ba92f5b4-2d11-453d-a403-e96b0029c9fe']);
    assert.deepEqual(rolesAt(principal, account), [], 'nothing on the whole account');
    assert.deepEqual(
      env.emulator.state.assignmentsFor(principal).map((a) => a.scope),
      [container],
      'the one grant is at the container the component names',
    );
    const written = env.emulator
      .requestsSince(before, { writesOnly: true })
      .filter((r) => /roleAssignments\//i.test(r.path))
      .map((r) => r.path.replace(/\/providers\/Microsoft\.Authorization\/roleAssignments\/.*$/i, ''));
    assert.deepEqual(written, [container], 'one role assignment PUT, at the container');
    assert.equal(cosmosAssignments(env.emulator.state, cosmos).length, 0, 'no Cosmos grant without the container it names');
    const details = (d.outcome?.skipped ?? []).map((s: { detail: string }) => s.detail).join('\n');
    assert.match(details, /DaprScopeUnresolvable: component 'blob-climb'.*not a valid blob container name/);
    assert.match(details, /DaprScopeUnresolvable: component 'cosmos-secret-coll'.*no plain 'collection'/);
  });

  it('issue 23 item 3: a container that does not exist is not granted on the account instead; ARM refuses the scope and the outcome says so', async () => {
    const account = seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stabsent'));
    seedDaprComponent(env.emulator.state, ENV, 'state-absent', {
      componentType: 'state.azure.blobstorage',
      metadata: [
        { name: 'accountName', value: 'stabsent' },
        { name: 'containerName', value: 'not-yet' },
      ],
      scopes: ['ca-absent'],
    });
    const id = daprApp('ca-absent', 'system');
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.notEqual(d.outcome?.status, 'remediated');
    assert.match(JSON.stringify(d.outcome?.errors), /containers\/not-yet.*does not exist/);
    assert.deepEqual(env.emulator.state.assignmentsFor(principalOf(id)), [], 'nothing on the account or anywhere else');
    assert.ok(account);
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
    // A queue binding naming its queue: with entity management, Data Owner where Dapr creates the queue
    // (the namespace); without it, Data Sender and Receiver on that queue alone.
    seedDaprComponent(env.emulator.state, ENV, 'queue-entities', {
      componentType: 'bindings.azure.servicebusqueues',
      metadata: [
        { name: 'namespaceName', value: 'sb-entities.servicebus.windows.net' },
        { name: 'queueName', value: 'orders' },
      ],
      scopes: ['ca-sb-owner'],
    });
    const queue = seedChildScope(env.emulator.state, ns, 'queues/payments');
    seedDaprComponent(env.emulator.state, ENV, 'queue-fixed', {
      componentType: 'bindings.azure.servicebusqueues',
      metadata: [
        { name: 'namespaceName', value: 'sb-entities.servicebus.windows.net' },
        { name: 'queueName', value: 'payments' },
        { name: 'disableEntityManagement', value: 'true' },
      ],
      scopes: ['ca-sb-owner'],
    });
    const owner = daprApp('ca-sb-owner', 'owner');
    const d2 = await deliver(app, resourceWriteEvent({ resourceId: owner }));
    assert.equal(d2.outcome?.status, 'remediated', JSON.stringify(d2.outcome));
    assert.deepEqual(rolesAt(principalOf(owner), ns), ['090c5cfd-751d-490a-894a-3ce6f1109419']);
    assert.deepEqual(rolesAt(principalOf(owner), queue), ['4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39']);
  });

  it('a component write event rewires every governed app it is scoped to', async () => {
    const a1 = daprApp('ca-rewire-1', 'system');
    const a2 = daprApp('ca-rewire-2', 'system');
    await deliver(app, resourceWriteEvent({ resourceId: a1 }));
    await deliver(app, resourceWriteEvent({ resourceId: a2 }));
    const account = seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'strewire'));
    const queue = seedChildScope(env.emulator.state, account, 'queueServices/default/queues/orders');
    const component = seedDaprComponent(env.emulator.state, ENV, 'queue-rewire', {
      componentType: 'bindings.azure.storagequeues',
      metadata: [
        { name: 'accountName', value: 'strewire' },
        { name: 'queueName', value: 'orders' },
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
    for (const a of [a1, a2]) assert.deepEqual(rolesAt(principalOf(a), queue), ['974c5e8b-45b9-4653-ba55-5f855dd0fb88']);
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
    seedChildScope(
      env.emulator.state,
      seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stsecretive')),
      'blobServices/default/containers/state',
    );
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
    const account = seedChildScope(
      env.emulator.state,
      seedScopeResource(env.emulator.state, target('Microsoft.Storage/storageAccounts', 'stdrift')),
      'tableServices/default/tables/daprstate',
    );
    seedDaprComponent(env.emulator.state, ENV, 'state-drift', {
      componentType: 'state.azure.tablestorage',
      metadata: [
        { name: 'accountName', value: 'stdrift' },
        { name: 'tableName', value: 'daprstate' },
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
  /** A Dapr app in the shared environment, in a resource group of its own team. */
  const sharedApp = (resourceGroup: string, name: string, tag: string, dapr: { appId?: string; daprEnabled?: boolean } = {}) =>
    seedDaprApp(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup,
      name,
      environmentId: SHARED_ENV,
      appId: dapr.appId ?? name,
      daprEnabled: dapr.daprEnabled ?? true,
      tags: { dapr: tag },
    });
  const vaultIn = (name: string, rg = 'rg-shared') => seedScopeResource(env.emulator.state, target('Microsoft.KeyVault/vaults', name, rg));
  const keyVaultComponent = (environmentId: string, name: string, vaultName: string, scopes?: string[]) =>
    seedDaprComponent(env.emulator.state, environmentId, name, {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: vaultName }],
      ...(scopes ? { scopes } : {}),
    });
  const roleWritesAt = (fromSeq: number, scope: string) =>
    env.emulator
      .requestsSince(fromSeq, { writesOnly: true })
      .filter((r) => /roleAssignments/i.test(r.path) && r.path.toLowerCase().startsWith(scope.toLowerCase()));

  it('issue 23 (1): an app declaring a Dapr app id another app of the environment has (Dapr disabled too) gets nothing: DaprAppIdNotUnique', async () => {
    const vault = vaultIn('kv-payments');
    keyVaultComponent(SHARED_ENV, 'secrets-payments', 'kv-payments', ['payments']);
    // The payments team's app, Dapr turned off for now: its app id is still 'payments'.
    sharedApp('rg-team-pay', 'ca-payments', 'none', { appId: 'payments', daprEnabled: false });
    // Another team's app in the same environment declares that app id for itself.
    const mallory = sharedApp('rg-team-mallory', 'ca-mallory', 'shared', { appId: 'payments' });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: mallory }));
    assert.equal(d.error, undefined);
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(rolesAt(principalOf(mallory), vault), [], 'no role on the payments vault');
    assert.deepEqual(roleWritesAt(before, vault), [], 'no role assignment written at the vault');
    assert.deepEqual(d.outcome?.dapr?.refused, ['DaprAppIdNotUnique'], 'the outcome line carries the code');
    const refusal = d.outcome?.skipped.find((s: { reason: string }) => s.reason === 'dapr-app-refused');
    assert.match(
      refusal?.detail ?? '',
      /^DaprAppIdNotUnique: Dapr app id 'payments' is also declared by \S+\/containerApps\/ca-payments \(Dapr disabled\).*\(give each app of the environment a Dapr app id of its own/,
    );
  });

  it("issue 23 (1): an environment is honoured only in the app's own resource group or when the rule names it (dapr.environments)", async () => {
    const elsewhere = seedManagedEnvironment(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-platform',
      name: 'env-other',
    });
    const undeclaredVault = vaultIn('kv-undeclared');
    keyVaultComponent(elsewhere, 'secrets-undeclared', 'kv-undeclared', ['ca-undeclared']);
    // Rule dapr-apps (targets include rg-shared) names no environment: only its apps' own resource group's count.
    const stray = seedDaprApp(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-team-c',
      name: 'ca-undeclared',
      environmentId: elsewhere,
      appId: 'ca-undeclared',
      tags: { dapr: 'system' },
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: stray }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(rolesAt(principalOf(stray), undeclaredVault), []);
    assert.deepEqual(
      env.emulator.requestsSince(before).filter((r) => /daprComponents/i.test(r.path)),
      [],
      'the environment was not even read',
    );
    assert.match(JSON.stringify(d.outcome?.skipped), /DaprEnvironmentNotHonoured: the app's managed environment \S+env-other/);
    // The same kind of app under a rule that names its environment gets what its component needs.
    const declaredVault = vaultIn('kv-declared');
    keyVaultComponent(SHARED_ENV, 'secrets-declared', 'kv-declared', ['ca-declared']);
    const declared = sharedApp('rg-team-d', 'ca-declared', 'shared');
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: declared }))).outcome?.status, 'remediated');
    assert.deepEqual(rolesAt(principalOf(declared), declaredVault), [KEY_VAULT_SECRETS_USER]);
  });

  it('issue 23 (1): an unscoped component of an environment shared with other resource groups is refused unless the rule allows it', async () => {
    const vault = vaultIn('kv-everyone');
    keyVaultComponent(SHARED_ENV, 'secrets-everyone', 'kv-everyone');
    const refused = sharedApp('rg-team-e', 'ca-unscoped', 'shared');
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: refused }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(rolesAt(principalOf(refused), vault), []);
    assert.deepEqual(roleWritesAt(before, vault), []);
    assert.match(
      JSON.stringify(d.outcome?.skipped),
      /DaprUnscopedComponentShared: component 'secrets-everyone' has no scopes.*unscopedComponents: allow/,
    );
    // dapr.unscopedComponents: allow (and the environment named by its bare name) lets it through.
    const allowed = sharedApp('rg-team-f', 'ca-unscoped-ok', 'shared-open');
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: allowed }))).outcome?.status, 'remediated');
    assert.ok(rolesAt(principalOf(allowed), vault).includes(KEY_VAULT_SECRETS_USER));
  });

  it('issue 23 (2): azureClientId is not written into a component that can serve an app with Dapr disabled', async () => {
    const other = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'id-inventory-other' });
    vaultIn('kv-inventory', RG);
    const component = keyVaultComponent(ENV, 'secrets-inventory', 'kv-inventory', ['inventory', 'ca-cid-second']);
    // The inventory team's app, Dapr off for now: the component serves it again as soon as Dapr is on.
    seedDaprApp(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      name: 'ca-inventory',
      environmentId: ENV,
      appId: 'inventory',
      daprEnabled: false,
      tags: { dapr: 'none' },
    });
    const id = daprApp('ca-cid-second', 'user', { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.match(JSON.stringify(d.outcome?.skipped), /dapr-client-id-conflict.*Dapr app 'inventory' \S+ca-inventory \(Dapr disabled\)/);
    assert.deepEqual(
      env.emulator.requestsSince(before, { writesOnly: true }).filter((r) => /daprComponents/i.test(r.path)),
      [],
      'no component write',
    );
    const metadata = env.emulator.state.resource(component)!.body.properties.metadata as Array<{ name: string }>;
    assert.deepEqual(
      metadata.map((m) => m.name),
      ['vaultName'],
    );
  });

  it('issue 23 (10): azureClientId is set for an app whose only identity is the user-assigned one (Container Apps picks none by itself)', async () => {
    vaultIn('kv-solo', RG);
    const component = keyVaultComponent(ENV, 'secrets-solo', 'kv-solo', ['ca-solo']);
    const id = daprApp('ca-solo', 'user');
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.equal(env.emulator.state.resource(id)!.body.identity.type, 'UserAssigned', 'one identity, user-assigned');
    const clientId = env.emulator.state.resource(target('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-ca-solo'))!.body.properties
      .clientId as string;
    const metadata = env.emulator.state.resource(component)!.body.properties.metadata as Array<{ name: string; value: string }>;
    assert.equal(metadata.find((m) => m.name === 'azureClientId')?.value, clientId);
  });

  it('issue 23 (7): a component write in an ungoverned subscription is acknowledged without any ARM call', async () => {
    const foreign = seedManagedEnvironment(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-elsewhere',
      name: 'env-foreign',
    });
    const component = keyVaultComponent(foreign, 'secrets-foreign', 'kv-foreign');
    const before = env.emulator.lastSeq;
    const d = await deliver(
      app,
      resourceWriteEvent({ resourceId: component, operationName: 'Microsoft.App/managedEnvironments/daprComponents/write' }),
    );
    assert.equal(d.error, undefined, 'acknowledged, so Event Grid does not redeliver');
    assert.deepEqual(env.emulator.requestsSince(before), [], 'no ARM call');
    const ignored = d.logs.find((l) => l.record.event === 'event.ignored')?.record;
    assert.equal(ignored?.reason, 'subscription-not-governed', JSON.stringify(d.logs.map((l) => l.record)));
  });
});
