/**
 * The Dapr component catalogue (src/arm/dapr-components.ts), one case per entry: its metadata fields
 * are the ones the component's own metadata.yaml (dapr/components-contrib, commit c23900d2, copied in
 * shared/vendor for reference; the field names are restated here) declares, its roles are the built-in
 * roles of those names, none of them can grant access, and its target names are parsed strictly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COSMOS_SQL_BUILTIN_ROLES,
  catalogueEntry,
  DAPR_COMPONENT_CATALOGUE,
  scopeBelowTarget,
  targetNameFrom,
} from '../../src/arm/dapr-components';
import { builtinRoleById, builtinRoleRefusal } from '../../src/config';

/** componentType -> [metadata field naming the target, ARM type, role names] (from each metadata.yaml and its doc). */
const EXPECTED: Record<string, Array<[string, string, string[]]>> = {
  'secretstores.azure.keyvault': [['vaultName', 'Microsoft.KeyVault/vaults', ['Key Vault Secrets User']]],
  'state.azure.blobstorage': [['accountName', 'Microsoft.Storage/storageAccounts', ['Storage Blob Data Contributor']]],
  'bindings.azure.blobstorage': [['accountName', 'Microsoft.Storage/storageAccounts', ['Storage Blob Data Contributor']]],
  'state.azure.tablestorage': [['accountName', 'Microsoft.Storage/storageAccounts', ['Storage Table Data Contributor']]],
  'bindings.azure.storagequeues': [['accountName', 'Microsoft.Storage/storageAccounts', ['Storage Queue Data Contributor']]],
  'pubsub.azure.servicebus.topics': [
    ['namespaceName', 'Microsoft.ServiceBus/namespaces', ['Azure Service Bus Data Sender', 'Azure Service Bus Data Receiver']],
  ],
  'pubsub.azure.servicebus.queues': [
    ['namespaceName', 'Microsoft.ServiceBus/namespaces', ['Azure Service Bus Data Sender', 'Azure Service Bus Data Receiver']],
  ],
  'bindings.azure.servicebusqueues': [
    ['namespaceName', 'Microsoft.ServiceBus/namespaces', ['Azure Service Bus Data Sender', 'Azure Service Bus Data Receiver']],
  ],
  'pubsub.azure.eventhubs': [
    ['eventHubNamespace', 'Microsoft.EventHub/namespaces', ['Azure Event Hubs Data Sender', 'Azure Event Hubs Data Receiver']],
    ['storageAccountName', 'Microsoft.Storage/storageAccounts', ['Storage Blob Data Contributor']],
  ],
  'bindings.azure.eventhubs': [
    ['eventHubNamespace', 'Microsoft.EventHub/namespaces', ['Azure Event Hubs Data Sender', 'Azure Event Hubs Data Receiver']],
    ['storageAccountName', 'Microsoft.Storage/storageAccounts', ['Storage Blob Data Contributor']],
  ],
  'configuration.azure.appconfig': [['host', 'Microsoft.AppConfiguration/configurationStores', ['App Configuration Data Reader']]],
  'state.azure.cosmosdb': [['url', 'Microsoft.DocumentDB/databaseAccounts', ['Cosmos DB Built-in Data Contributor']]],
  'bindings.azure.cosmosdb': [['url', 'Microsoft.DocumentDB/databaseAccounts', ['Cosmos DB Built-in Data Contributor']]],
};

/**
 * Issue 23 item 3: where each target's grant goes, below the target, as `{field}` placeholders: the
 * required metadata fields naming the container, queue, table or Cosmos DB database and container
 * (each component's metadata.yaml), in the scope forms Learn gives (storage/{blobs,queues,tables}/assign-azure-role-data-access;
 * cosmos-db/how-to-setup-rbac). '' : on the target itself (the component names nothing narrower).
 */
const EXPECTED_SCOPE: Record<string, string[]> = {
  'secretstores.azure.keyvault': [''],
  'state.azure.blobstorage': ['/blobServices/default/containers/{containerName}'],
  'bindings.azure.blobstorage': ['/blobServices/default/containers/{containerName}'],
  'state.azure.tablestorage': ['/tableServices/default/tables/{tableName}'],
  'bindings.azure.storagequeues': ['/queueServices/default/queues/{queueName}'],
  'pubsub.azure.servicebus.topics': [''],
  'pubsub.azure.servicebus.queues': [''],
  'bindings.azure.servicebusqueues': ['/queues/{queueName}'],
  'pubsub.azure.eventhubs': ['', '/blobServices/default/containers/{storageContainerName}'],
  'bindings.azure.eventhubs': ['/eventhubs/{eventHub}', '/blobServices/default/containers/{storageContainerName}'],
  'configuration.azure.appconfig': [''],
  'state.azure.cosmosdb': ['/dbs/{database}/colls/{collection}'],
  'bindings.azure.cosmosdb': ['/dbs/{database}/colls/{collection}'],
};

describe('the Dapr component catalogue', () => {
  it('has exactly the expected entries', () => {
    assert.deepEqual(DAPR_COMPONENT_CATALOGUE.map((e) => e.componentType).sort(), Object.keys(EXPECTED).sort());
  });

  for (const entry of DAPR_COMPONENT_CATALOGUE) {
    it(`${entry.componentType}: fields, target types, roles and a cited page`, () => {
      const roles = (t: (typeof entry.targets)[number]) =>
        t.grant.kind === 'rbac' ? t.grant.roles.map((r) => r.name) : [t.grant.role.name];
      assert.deepEqual(
        entry.targets.map((t) => [t.field, t.resourceType, roles(t)]),
        EXPECTED[entry.componentType],
      );
      assert.match(entry.doc, /^https:\/\/docs\.dapr\.io\/reference\/components-reference\//);
      for (const t of entry.targets) {
        const grants = [t.grant, ...(t.entityManagement?.grant ? [t.entityManagement.grant] : [])];
        for (const g of grants) {
          if (g.kind === 'cosmos-sql') {
            // Not an Azure RBAC role: a Cosmos DB built-in SQL role, by its fixed id.
            assert.ok(COSMOS_SQL_BUILTIN_ROLES.some((r) => r.guid === g.role.guid && r.name === g.role.name));
            continue;
          }
          for (const r of g.roles) {
            const builtin = builtinRoleById(r.guid);
            assert.equal(builtin?.roleName, r.name, `${r.guid} is the built-in role '${r.name}'`);
            assert.equal(builtinRoleRefusal(builtin!), undefined, `'${r.name}' cannot grant access`);
          }
        }
      }
    });
  }

  for (const entry of DAPR_COMPONENT_CATALOGUE) {
    it(`${entry.componentType}: granted at the narrowest scope its metadata names, with the source cited`, () => {
      entry.targets.forEach((t, i) => {
        // Each field's value is its own name in lower case (a valid name at every level).
        const below = scopeBelowTarget(t, (field) => field.toLowerCase());
        const expected = EXPECTED_SCOPE[entry.componentType]![i]!.replace(/\{(\w+)\}/g, (_, f: string) => f.toLowerCase());
        assert.deepEqual(below, { path: expected });
        if (t.narrowTo) assert.match(t.narrowTo.source, /^https:\/\/learn\.microsoft\.com\//);
      });
    });
  }

  it('child names are checked before they become part of a scope', () => {
    const blob = catalogueEntry('state.azure.blobstorage')!.targets[0]!;
    const table = catalogueEntry('state.azure.tablestorage')!.targets[0]!;
    const cosmos = catalogueEntry('state.azure.cosmosdb')!.targets[0]!;
    const read = (values: Record<string, string>) => (field: string) => values[field];
    assert.deepEqual(scopeBelowTarget(blob, read({ containerName: 'state' })), { path: '/blobServices/default/containers/state' });
    for (const bad of ['state/../other', '..', 'State', 'a--b', 'st', 'x?comp=list', 'state#'])
      assert.ok('problem' in scopeBelowTarget(blob, read({ containerName: bad })), bad);
    assert.ok('problem' in scopeBelowTarget(blob, read({})), 'missing: refused, never granted on the account');
    assert.ok('problem' in scopeBelowTarget(table, read({ tableName: '1table' })));
    assert.deepEqual(scopeBelowTarget(cosmos, read({ database: 'Orders', collection: 'items_v2' })), {
      path: '/dbs/Orders/colls/items_v2',
    });
    for (const bad of ['a/b', '..', '.hidden', 'a\\b', 'a#b', 'a?b', 'a b'])
      assert.ok('problem' in scopeBelowTarget(cosmos, read({ database: bad, collection: 'c' })), bad);
    assert.ok('problem' in scopeBelowTarget(cosmos, read({ database: 'orders' })), 'the container is required too');
  });

  it('Service Bus entity management needs Data Owner; Event Hubs entity management is never granted', () => {
    const sb = catalogueEntry('pubsub.azure.servicebus.topics')!.targets[0]!.entityManagement!;
    assert.equal(sb.field, 'disableEntityManagement');
    assert.equal(sb.managesWhen, 'not-true');
    assert.deepEqual(sb.grant, {
      kind: 'rbac',
      roles: [{ name: 'Azure Service Bus Data Owner', guid: '090c5cfd-751d-490a-894a-3ce6f1109419' }],
    });
    const eh = catalogueEntry('PUBSUB.azure.eventhubs')!.targets[0]!.entityManagement!;
    assert.equal(eh.field, 'enableEntityManagement');
    assert.equal(eh.grant, undefined);
  });

  it('target names are parsed strictly: nothing is guessed', () => {
    const kv = catalogueEntry('secretstores.azure.keyvault')!.targets[0]!;
    const sb = catalogueEntry('pubsub.azure.servicebus.topics')!.targets[0]!;
    const eh = catalogueEntry('pubsub.azure.eventhubs')!.targets[0]!;
    const cosmos = catalogueEntry('state.azure.cosmosdb')!.targets[0]!;
    const appconfig = catalogueEntry('configuration.azure.appconfig')!.targets[0]!;
    assert.deepEqual(targetNameFrom(kv, 'KV-Team-A'), { name: 'kv-team-a' });
    assert.ok('problem' in targetNameFrom(kv, "kv' or 1==1"));
    assert.deepEqual(targetNameFrom(sb, 'sb-orders.servicebus.windows.net'), { name: 'sb-orders' });
    assert.ok('problem' in targetNameFrom(sb, 'sb-orders'), 'a bare name where Dapr wants the FQDN');
    assert.ok('problem' in targetNameFrom(sb, 'sb-orders.servicebus.evil.example'));
    assert.deepEqual(targetNameFrom(eh, 'eh-events'), { name: 'eh-events' });
    assert.deepEqual(targetNameFrom(eh, 'eh-events.servicebus.windows.net'), { name: 'eh-events' });
    assert.deepEqual(targetNameFrom(cosmos, 'https://acc-1.documents.azure.com:443/'), { name: 'acc-1' });
    assert.ok('problem' in targetNameFrom(cosmos, 'http://acc-1.documents.azure.com:443/'), 'not https');
    assert.ok('problem' in targetNameFrom(cosmos, 'https://user:pw@acc-1.documents.azure.com/'));
    assert.ok('problem' in targetNameFrom(cosmos, 'https://acc-1.documents.azure.com.evil.example/'));
    assert.deepEqual(targetNameFrom(appconfig, 'https://cfg-store.azconfig.io'), { name: 'cfg-store' });
  });
});
