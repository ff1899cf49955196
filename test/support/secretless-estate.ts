import { seedSecretlessComponents } from '../../src/sandbox/secretless-estate';
import { seedChildScope } from '../../tools/arm-emulator/seed';
import { seedCosmosAccount, seedDaprComponent, seedLocalAuthTarget, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { SUB_A } from './emulator-fixture';

/** A recognisable value planted in components' secrets and in a plain key field: no output may ever hold it. */
export const PLANTED = 'PLANTED-9c1e-SECRET-VALUE';

/** Rules for the secretless tests: tagged container apps get a system-assigned identity and their components' grants. */
export const SECRETLESS_RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.App/containerApps]
profiles: {}
rules:
  - name: dapr-apps
    match: { tags: { dapr: system } }
    identity: { kind: SystemAssigned }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
`;

/** The estate of the sandbox: a key-based blob state store, a Service Bus shared with a key holder, Cosmos DB with keys off. */
export function seedSecretlessEstate(state: Parameters<typeof seedDaprComponent>[0], planted: string, rg: string, sub: string): void {
  const envId = seedManagedEnvironment(state, { subscriptionId: sub, resourceGroup: rg, name: 'env-demo' });
  const account = seedLocalAuthTarget(state, {
    subscriptionId: sub,
    resourceGroup: rg,
    type: 'Microsoft.Storage/storageAccounts',
    name: 'stsecretless',
    localAuth: 'unset',
  });
  seedChildScope(state, account, 'blobServices/default/containers/state');
  seedLocalAuthTarget(state, {
    subscriptionId: sub,
    resourceGroup: rg,
    type: 'Microsoft.ServiceBus/namespaces',
    name: 'sb-secretless',
    localAuth: 'on',
  });
  seedCosmosAccount(state, { subscriptionId: sub, resourceGroup: rg, name: 'cosmos-secretless', disableLocalAuth: true });
  seedSecretlessComponents(state, {
    environmentId: envId,
    storageAccount: 'stsecretless',
    serviceBus: 'sb-secretless',
    planted,
    ordersAppId: 'ca-orders',
    legacyAppId: 'ca-legacy',
    // A plain value in a key field: a GET returns plain metadata, so this is the case that could leak.
    legacyPlain: true,
  });
}

/** A blob state store on `stsecretless`'s key (secret `key`), loaded by `appId`; `extraSecrets` are held beside the key. */
export function seedKeyStateStore(
  state: Parameters<typeof seedDaprComponent>[0],
  environmentId: string,
  name: string,
  options: { appId: string; planted: string; extraSecrets?: Array<{ name: string; value: string }> },
): void {
  seedDaprComponent(state, environmentId, name, {
    componentType: 'state.azure.blobstorage',
    metadata: [
      { name: 'accountName', value: 'stsecretless' },
      { name: 'containerName', value: 'state' },
      { name: 'accountKey', secretRef: 'key' },
    ],
    scopes: [options.appId],
    secrets: [{ name: 'key', value: options.planted }, ...(options.extraSecrets ?? [])],
  });
}
