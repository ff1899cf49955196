/**
 * How a Dapr Azure component authenticates, by metadata NAME only: which fields carry a key, a connection
 * string, an Entra client secret or a certificate. Our own restatement of the `authenticationProfiles`
 * of each component's metadata.yaml and of the built-in `azuread` profile in dapr/components-contrib
 * (commit c23900d2760de2061143587c16c5e30ab3f092cf):
 * - state/azure/blobstorage/v1 and v2, bindings/azure/blobstorage: "Connection string" (`connectionString`,
 *   sensitive) and "Account Key" (`accountKey`, sensitive; with `accountName`);
 * - state/azure/tablestorage, bindings/azure/storagequeues: "Account Key" (`accountKey`, sensitive);
 * - state/azure/cosmosdb, bindings/azure/cosmosdb: "Master key" (`masterKey`, sensitive);
 * - pubsub/azure/servicebus/topics, pubsub/azure/servicebus/queues, bindings/azure/servicebusqueues,
 *   pubsub/azure/eventhubs, bindings/azure/eventhubs, configuration/azure/appconfig: "Connection string"
 *   (`connectionString`, sensitive);
 * - secretstores/azure/keyvault: the built-in profile only;
 * - .build-tools/builtin-authentication-profiles.yaml, `azuread`: "Managed identity" (`azureClientId`
 *   optional, "Required if the service has multiple identities assigned"), "Client credentials"
 *   (`azureTenantId`, `azureClientId`, `azureClientSecret` sensitive) and "Client certificate"
 *   (`azureCertificate` sensitive, or `azureCertificateFile`; `azureCertificatePassword` sensitive).
 * The Event Hubs components' checkpoint store takes `storageAccountKey` / `storageConnectionString`
 * (sensitive, same files, component metadata), which are keys of the checkpoint storage account.
 *
 * Values are never read here: a field's presence (plain or from a secret) is what counts.
 */

/** The ways a component can authenticate to its Azure target. */
export type CredentialMethod = 'key' | 'connection-string' | 'client-secret' | 'certificate' | 'managed-identity';

/** Methods that use the target's own (local) authentication: switching local auth off breaks them. */
export const LOCAL_AUTH_METHODS: ReadonlySet<CredentialMethod> = new Set(['key', 'connection-string']);

/** A metadata field that carries a credential, and which method it means. */
export interface CredentialField {
  readonly field: string;
  readonly method: CredentialMethod;
  /**
   * The target field (of the component catalogue, src/arm/dapr-components.ts) whose resource this credential
   * opens: `accountName` for a blob state store's key, `storageAccountName` for an Event Hubs checkpoint key.
   * Absent: the component's first target.
   */
  readonly target?: string;
}

/** The built-in `azuread` profile (builtin-authentication-profiles.yaml): Entra ID credentials that are not managed identity. */
export const ENTRA_CREDENTIAL_FIELDS: readonly CredentialField[] = [
  { field: 'azureClientSecret', method: 'client-secret' },
  { field: 'azureCertificate', method: 'certificate' },
  { field: 'azureCertificateFile', method: 'certificate' },
  { field: 'azureCertificatePassword', method: 'certificate' },
];

/** Fields of the managed-identity profile that remain after a migration (not credentials). */
export const MANAGED_IDENTITY_FIELDS = ['azureClientId', 'azureEnvironment'] as const;

/** Fields that only accompany a client secret or certificate, removed with it when moving to managed identity. */
export const ENTRA_COMPANION_FIELDS = ['azureTenantId'] as const;

const key = (field: string, target?: string): CredentialField => ({ field, method: 'key', ...(target ? { target } : {}) });
const connectionString = (field: string, target?: string): CredentialField => ({
  field,
  method: 'connection-string',
  ...(target ? { target } : {}),
});

const STORAGE_KEYS = [connectionString('connectionString'), key('accountKey')];
const CONNECTION_STRING = [connectionString('connectionString')];
const EVENT_HUBS = [
  connectionString('connectionString'),
  key('storageAccountKey', 'storageAccountName'),
  connectionString('storageConnectionString', 'storageAccountName'),
];

/**
 * The key profiles of each component type the catalogue knows (keyed like `CatalogueEntry.componentType`);
 * `test/arm/dapr-credentials.test.ts` holds this table against the catalogue, so a catalogued type without
 * an entry fails.
 */
export const KEY_PROFILES: Readonly<Record<string, readonly CredentialField[]>> = {
  'secretstores.azure.keyvault': [],
  'state.azure.blobstorage': STORAGE_KEYS,
  'bindings.azure.blobstorage': STORAGE_KEYS,
  'state.azure.tablestorage': [key('accountKey')],
  'bindings.azure.storagequeues': [key('accountKey')],
  'pubsub.azure.servicebus.topics': CONNECTION_STRING,
  'pubsub.azure.servicebus.queues': CONNECTION_STRING,
  'bindings.azure.servicebusqueues': CONNECTION_STRING,
  'pubsub.azure.eventhubs': EVENT_HUBS,
  'bindings.azure.eventhubs': EVENT_HUBS,
  'configuration.azure.appconfig': CONNECTION_STRING,
  'state.azure.cosmosdb': [key('masterKey')],
  'bindings.azure.cosmosdb': [key('masterKey')],
};

/** Every credential field a component of this type may hold (its key profiles, then Entra's); undefined for unknown types. */
export function credentialFieldsOf(componentType: string): readonly CredentialField[] | undefined {
  const own = KEY_PROFILES[componentType.toLowerCase()];
  return own ? [...own, ...ENTRA_CREDENTIAL_FIELDS] : undefined;
}

/**
 * The local-authentication switch of each target type, as Resource Graph shows the resource's properties
 * (Learn pages on each, paraphrased):
 * - Storage: `allowSharedKeyAccess`; the account permits Shared Key (account key and SAS) requests when the
 *   property is null (not set, the default) or true, and only Microsoft Entra ID when false
 *   (storage/common/shared-key-authorization-prevent);
 * - Service Bus, Event Hubs: `disableLocalAuth: true` turns off SAS key authentication
 *   (service-bus-messaging/disable-local-authentication, event-hubs/authorize-access-event-hubs);
 * - Cosmos DB: `disableLocalAuth: true` leaves only Microsoft Entra ID (cosmos-db/how-to-setup-rbac);
 * - App Configuration: `disableLocalAuth: true` turns off access keys
 *   (azure-app-configuration/howto-disable-access-key-authentication).
 * Key Vault has no local authentication: its data plane always takes Entra tokens.
 */
export interface LocalAuthFlag {
  readonly property: 'allowSharedKeyAccess' | 'disableLocalAuth';
  /** The property value that means local authentication is off. */
  readonly offWhen: boolean;
}

export const LOCAL_AUTH_FLAGS: Readonly<Record<string, LocalAuthFlag>> = {
  'microsoft.storage/storageaccounts': { property: 'allowSharedKeyAccess', offWhen: false },
  'microsoft.servicebus/namespaces': { property: 'disableLocalAuth', offWhen: true },
  'microsoft.eventhub/namespaces': { property: 'disableLocalAuth', offWhen: true },
  'microsoft.documentdb/databaseaccounts': { property: 'disableLocalAuth', offWhen: true },
  'microsoft.appconfiguration/configurationstores': { property: 'disableLocalAuth', offWhen: true },
};

/** The target type's local-auth switch; undefined for types without local authentication (Key Vault). */
export function localAuthFlagOf(resourceType: string): LocalAuthFlag | undefined {
  return LOCAL_AUTH_FLAGS[resourceType.toLowerCase()];
}

/**
 * Whether local authentication is on, from the property as read: `off` only when the property holds the
 * value that switches it off; absent or null means the RP's default, which is on (storage's null
 * permits Shared Key; the others' disableLocalAuth defaults to false).
 */
export function localAuthState(flag: LocalAuthFlag, value: unknown): 'on' | 'off' {
  return value === flag.offWhen ? 'off' : 'on';
}
