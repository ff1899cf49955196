import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DaprComponent } from '../../src/engine/ports';
import { classifyComponent, migrationChange, type SeenComponent, targetReadiness, usesLocalAuth } from '../../src/engine/secretless';
import { soleConsumerScopes } from '../../src/settings/settings';

const ENV = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env';
const SECRET = 'PLANTED-SECRET-VALUE-7f3a';

function component(
  componentType: string,
  metadata: DaprComponent['metadata'],
  secrets: DaprComponent['secrets'] = [],
  name = 'c1',
): DaprComponent {
  return { id: `${ENV}/daprComponents/${name}`, name, componentType, metadata, scopes: [], secrets, rawBody: {} };
}

const blob = (extra: DaprComponent['metadata'], secrets: DaprComponent['secrets'] = [], name = 'c1') =>
  component(
    'state.azure.blobstorage',
    [{ name: 'accountName', value: 'stdemo' }, { name: 'containerName', value: 'state' }, ...extra],
    secrets,
    name,
  );

describe('secretless: the method a component uses, from names only', () => {
  it('tells each profile apart', () => {
    const cases: Array<[DaprComponent, string]> = [
      [blob([{ name: 'accountKey', secretRef: 'key' }], [{ name: 'key' }]), 'key'],
      [blob([{ name: 'connectionString', value: SECRET }]), 'connection-string'],
      [
        blob(
          [
            { name: 'azureTenantId', value: 't' },
            { name: 'azureClientId', value: 'c' },
            { name: 'azureClientSecret', secretRef: 's' },
          ],
          [{ name: 's' }],
        ),
        'client-secret',
      ],
      [
        blob([{ name: 'azureCertificate', secretRef: 'cert' }], [{ name: 'cert', keyVaultUrl: 'https://kv.vault.azure.net/secrets/c' }]),
        'certificate',
      ],
      [blob([{ name: 'azureClientId', value: 'c' }]), 'managed-identity'],
      [blob([]), 'managed-identity'],
      [component('pubsub.azure.servicebus.topics', [{ name: 'connectionString', secretRef: 'cs' }], [{ name: 'cs' }]), 'connection-string'],
      [
        component('state.azure.cosmosdb', [
          { name: 'url', value: 'https://acc.documents.azure.com:443/' },
          { name: 'masterKey', secretRef: 'mk' },
        ]),
        'key',
      ],
    ];
    for (const [c, method] of cases) assert.equal(classifyComponent(c)?.method, method, JSON.stringify(c.metadata.map((m) => m.name)));
  });

  it('says where each credential comes from, and never holds its value', () => {
    const auth = classifyComponent(
      blob(
        [
          { name: 'accountKey', secretRef: 'k1' },
          { name: 'connectionString', value: SECRET },
          { name: 'other', secretRef: 'k2' },
        ],
        [{ name: 'k1' }, { name: 'k2', keyVaultUrl: 'https://kv.vault.azure.net/secrets/x' }],
      ),
    )!;
    assert.deepEqual(
      auth.credentials.map((c) => [c.field, c.source, c.secretName ?? null]),
      [
        ['accountKey', 'inline-secret', 'k1'],
        ['connectionString', 'plain', null],
      ],
    );
    assert.deepEqual(auth.otherSecretFields, ['other']);
    assert.ok(!JSON.stringify(auth).includes(SECRET));
    assert.ok(usesLocalAuth(auth));
  });

  it('ties an Event Hubs checkpoint key to the checkpoint storage account', () => {
    const auth = classifyComponent(
      component('pubsub.azure.eventhubs', [
        { name: 'eventHubNamespace', value: 'ehdemo1' },
        { name: 'storageAccountName', value: 'stcheck' },
        { name: 'storageContainerName', value: 'cp' },
        { name: 'storageAccountKey', secretRef: 'sk' },
      ]),
    )!;
    assert.deepEqual(
      auth.credentials.map((c) => c.targetField),
      ['storageAccountName'],
    );
  });

  it('gives the exact change: credential fields and their secrets removed, azureClientId as the identities need', () => {
    const c = blob([{ name: 'accountKey', secretRef: 'k1' }], [{ name: 'k1' }]);
    const auth = classifyComponent(c)!;
    assert.deepEqual(migrationChange(c, auth, { systemAssigned: true, userAssignedClientIds: [] }), {
      removeMetadata: ['accountKey'],
      removeSecrets: ['k1'],
      azureClientId: { action: 'keep' },
    });
    assert.deepEqual(migrationChange(c, auth, { systemAssigned: false, userAssignedClientIds: ['cid-1'] }).azureClientId, {
      action: 'set',
      clientId: 'cid-1',
    });
    assert.equal(migrationChange(c, auth, { systemAssigned: true, userAssignedClientIds: ['cid-1'] }).azureClientId.action, 'choose');
    const sp = blob(
      [
        { name: 'azureTenantId', value: 't' },
        { name: 'azureClientId', value: 'sp' },
        { name: 'azureClientSecret', secretRef: 's' },
      ],
      [{ name: 's' }],
    );
    assert.deepEqual(migrationChange(sp, classifyComponent(sp)!, { systemAssigned: true, userAssignedClientIds: [] }), {
      removeMetadata: ['azureClientSecret', 'azureTenantId'],
      removeSecrets: ['s'],
      azureClientId: { action: 'remove' },
    });
  });
});

describe('secretless: target readiness', () => {
  const STORAGE = {
    id: '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stdemo',
    type: 'Microsoft.Storage/storageAccounts',
    name: 'stdemo',
  };
  const seen = (c: DaprComponent): SeenComponent => ({
    id: c.id,
    name: c.name,
    environmentId: ENV,
    componentType: c.componentType,
    auth: classifyComponent(c)!,
  });
  const keyed = seen(blob([{ name: 'accountKey', secretRef: 'k' }], [], 'keyed'));
  const mi = seen(blob([], [], 'mi'));
  const attested = { soleConsumerScopes: ['/subscriptions/s1/resourceGroups/rg'], scanComplete: true };

  it('is not ready while a visible component uses a key, naming it', () => {
    const r = targetReadiness({ ...STORAGE, flag: undefined }, [keyed, mi], attested)!;
    assert.equal(r.verdict, 'not-ready');
    assert.match(r.blockers[0]!, /keyed .*'accountKey' \(key\)/);
    assert.equal(r.flag, 'allowSharedKeyAccess: (not set)');
  });

  it('is unknown without a trusted declaration that only scanned components use the keys', () => {
    const r = targetReadiness({ ...STORAGE, flag: true }, [mi], { soleConsumerScopes: [], scanComplete: true })!;
    assert.equal(r.verdict, 'unknown');
    assert.deepEqual(r.identityConsumers.length, 1);
  });

  it('is unknown when the scan was incomplete, or a component hides its target name', () => {
    assert.equal(targetReadiness({ ...STORAGE, flag: true }, [mi], { ...attested, scanComplete: false })!.verdict, 'unknown');
    const hidden = seen(
      component('state.azure.blobstorage', [
        { name: 'accountName', secretRef: 'n' },
        { name: 'accountKey', secretRef: 'k' },
      ]),
    );
    const r = targetReadiness({ ...STORAGE, flag: true }, [mi, hidden], attested)!;
    assert.equal(r.verdict, 'unknown');
    assert.match(r.unknowns[0]!, /cannot read/);
  });

  it('is ready only with no key consumer, a complete scan and the declaration; already-off when the flag says so', () => {
    assert.equal(targetReadiness({ ...STORAGE, flag: null }, [mi], attested)!.verdict, 'ready');
    assert.equal(targetReadiness({ ...STORAGE, flag: false }, [keyed], attested)!.verdict, 'already-off');
    // A scope that merely starts with the same letters is not the declared scope.
    assert.equal(
      targetReadiness({ ...STORAGE, flag: null }, [mi], { ...attested, soleConsumerScopes: ['/subscriptions/s1/resourceGroups/r'] })!
        .verdict,
      'unknown',
    );
  });

  it('has no readiness for a target without local authentication (Key Vault)', () => {
    assert.equal(targetReadiness({ id: 'v', type: 'Microsoft.KeyVault/vaults', name: 'kv', flag: undefined }, [], attested), undefined);
  });
});

describe('secretless: the sole-consumer declaration (AUTOPILOT_SECRETLESS_SOLE_CONSUMERS)', () => {
  it('takes subscription, resource group and resource ids, and refuses anything else at start', () => {
    assert.deepEqual(soleConsumerScopes(undefined), []);
    assert.deepEqual(soleConsumerScopes(' /subscriptions/s1 , /subscriptions/s1/resourceGroups/rg ,'), [
      '/subscriptions/s1',
      '/subscriptions/s1/resourceGroups/rg',
    ]);
    assert.deepEqual(soleConsumerScopes('/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st'), [
      '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st',
    ]);
    for (const bad of [
      'rg-shared',
      '/subscriptions/s1/resourceGroups',
      '*',
      '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage',
    ])
      assert.throws(() => soleConsumerScopes(bad), /AUTOPILOT_SECRETLESS_SOLE_CONSUMERS|not a subscription/);
  });
});
