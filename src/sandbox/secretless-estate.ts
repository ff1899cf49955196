import {
  type EmulatorState,
  seedCosmosAccount,
  seedDaprComponent,
  seedLocalAuthTarget,
  seedManagedEnvironment,
} from '../../tools/arm-emulator';

/**
 * The sandbox's secretless estate (issue 25): in the Dapr app `orders`'s environment (rg-dapr), a blob state
 * store on the shared storage account's key, a Service Bus pub/sub on the identity beside a second component
 * that still holds a connection string, and a Cosmos DB account with local authentication already off. The
 * key values below are sandbox-only and recognisable, so a test can search every output for them.
 */
export const SANDBOX_PLANTED_KEY = 'sandbox-only-planted-key-5e1f';

export interface SecretlessComponentsInput {
  environmentId: string;
  storageAccount: string;
  serviceBus: string;
  /** The key value written into the components (a test's recognisable value). */
  planted: string;
  ordersAppId: string;
  legacyAppId: string;
  /** The legacy component holds its connection string as a plain value (which a GET returns) instead of a secret. */
  legacyPlain?: boolean;
}

/** Three components: a key-based blob state store, an identity-based Service Bus pub/sub, and a legacy one on a connection string. */
export function seedSecretlessComponents(state: EmulatorState, input: SecretlessComponentsInput): void {
  const namespaceName = { name: 'namespaceName', value: `${input.serviceBus}.servicebus.windows.net` };
  const connection = `Endpoint=sb://${input.serviceBus}.servicebus.windows.net/;SharedAccessKey=${input.planted}`;
  seedDaprComponent(state, input.environmentId, 'orders-state', {
    componentType: 'state.azure.blobstorage',
    metadata: [
      { name: 'accountName', value: input.storageAccount },
      { name: 'containerName', value: 'state' },
      { name: 'accountKey', secretRef: 'storage-key' },
    ],
    scopes: [input.ordersAppId],
    secrets: [{ name: 'storage-key', value: input.planted }],
  });
  seedDaprComponent(state, input.environmentId, 'orders-pubsub', {
    componentType: 'pubsub.azure.servicebus.topics',
    metadata: [namespaceName, { name: 'disableEntityManagement', value: 'true' }],
    scopes: [input.ordersAppId],
  });
  seedDaprComponent(state, input.environmentId, 'legacy-pubsub', {
    componentType: 'pubsub.azure.servicebus.topics',
    metadata: [
      namespaceName,
      input.legacyPlain ? { name: 'connectionString', value: connection } : { name: 'connectionString', secretRef: 'sb-connection' },
    ],
    scopes: [input.legacyAppId],
    ...(input.legacyPlain ? {} : { secrets: [{ name: 'sb-connection', value: connection }] }),
  });
}

export function seedSecretlessDemo(state: EmulatorState, sub: string): void {
  const environmentId = seedManagedEnvironment(state, { subscriptionId: sub, resourceGroup: 'rg-dapr', name: 'env-demo' });
  seedLocalAuthTarget(state, {
    subscriptionId: sub,
    resourceGroup: 'rg-shared',
    type: 'Microsoft.ServiceBus/namespaces',
    name: 'sb-demo-shared',
    localAuth: 'on',
  });
  seedCosmosAccount(state, { subscriptionId: sub, resourceGroup: 'rg-shared', name: 'cosmos-demo-shared', disableLocalAuth: true });
  seedSecretlessComponents(state, {
    environmentId,
    storageAccount: 'stdemoshared',
    serviceBus: 'sb-demo-shared',
    planted: SANDBOX_PLANTED_KEY,
    ordersAppId: 'orders',
    legacyAppId: 'legacy-worker',
  });
}
