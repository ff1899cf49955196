/**
 * The catalogue of Azure Dapr component types: for each, the metadata field(s) that name its Azure
 * target, how the field spells the target (a bare name, a host name, a URL), the target's ARM type,
 * and what the component's identity must hold there. Pure data, in one place; the engine derives a
 * Dapr app's grants from it (src/engine/dapr.ts) and the tests hold one case per entry.
 *
 * Sources, for every entry:
 * - the metadata field names: dapr/components-contrib `metadata.yaml` of each component (commit
 *   c23900d2, `builtinAuthenticationProfiles: azuread` and the required fields);
 * - the roles: the Dapr component reference page where it names one (dapr/docs commit 0748da594),
 *   otherwise the service's own Learn page on Microsoft Entra data access (cited per entry in `doc`
 *   and `roleSource`).
 */

/** An Azure RBAC built-in role by name and GUID (the same in every tenant). */
export interface CatalogueRole {
  readonly name: string;
  readonly guid: string;
}

/** What the identity must hold on a target. */
export type CatalogueGrant =
  | { readonly kind: 'rbac'; readonly roles: readonly CatalogueRole[] }
  /** A Cosmos DB SQL (data-plane) role assignment: not an Azure RBAC assignment at all. */
  | { readonly kind: 'cosmos-sql'; readonly role: CatalogueRole };

/**
 * How a metadata value names the target:
 * - `name`: the resource's own name (`accountName: mystorage`);
 * - `name-or-host`: a bare name, or a host name ending in one of `hostSuffixes`;
 * - `host`: a host name ending in one of `hostSuffixes` (`namespace.servicebus.windows.net`);
 * - `url`: an https URL whose host ends in one of `hostSuffixes` (`https://acc.documents.azure.com:443/`).
 */
export type TargetSpelling = 'name' | 'name-or-host' | 'host' | 'url';

/**
 * A flag in the component's metadata that makes Dapr manage entities (create queues, topics,
 * subscriptions) itself, which needs a stronger role, or one the product does not grant at all.
 */
export interface EntityManagement {
  readonly field: string;
  /** Dapr manages entities when the field is `true`, or unless it is `true` (Service Bus's `disableEntityManagement`). */
  readonly managesWhen: 'true' | 'not-true';
  /** The grant that replaces the target's own one while entities are managed; absent: not granted by the product. */
  readonly grant?: CatalogueGrant;
  readonly why: string;
}

/**
 * One level below the target that a metadata field names (a blob container, a queue, a table, a Cosmos
 * DB database or container): the grant is made there, never on the whole target, so a component naming
 * one container cannot reach the account's others.
 */
export interface ScopeLevel {
  /** The metadata field naming this level (required in the component's metadata.yaml). */
  readonly field: string;
  /** The path from the level above to this one, before its name: `blobServices/default/containers`, `dbs`, `colls`. */
  readonly path: string;
  /** The service's name rule, checked before the value becomes part of a scope (no `/`, `?`, `#`, `..`). */
  readonly namePattern: RegExp;
  readonly what: string;
}

/** The narrowest scope a component names inside its target, and where that scope form is documented. */
export interface ScopeNarrowing {
  /** Outermost first; every level is required (a component missing one is refused, never granted wider). */
  readonly levels: readonly ScopeLevel[];
  readonly source: string;
}

export interface CatalogueTarget {
  /** The metadata field that names the target. */
  readonly field: string;
  readonly spelling: TargetSpelling;
  /** Public-cloud host suffixes (lower case, with the leading dot) for `host`/`url`/`name-or-host`. */
  readonly hostSuffixes?: readonly string[];
  /** The ARM type of the target (canonical spelling). */
  readonly resourceType: string;
  /** ARM's name rule for that type, checked before a value is used in a query. */
  readonly namePattern: RegExp;
  readonly grant: CatalogueGrant;
  readonly entityManagement?: EntityManagement;
  /** Absent: the grant is on the target itself (a vault, a namespace: the component names nothing narrower). */
  readonly narrowTo?: ScopeNarrowing;
}

export interface CatalogueEntry {
  /** `<building block>.<component>`, as in a component's `spec.type` / Container Apps' `componentType`. */
  readonly componentType: string;
  readonly targets: readonly CatalogueTarget[];
  /** The Dapr component reference page. */
  readonly doc: string;
  /** Where the role comes from, when the Dapr page names none. */
  readonly roleSource?: string;
}

export const ROLES = {
  keyVaultSecretsUser: { name: 'Key Vault Secrets User', guid: '4633458b-17de-408a-b874-0445c86b69e6' },
  storageBlobDataContributor: { name: 'Storage Blob Data Contributor', guid: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' },
  storageTableDataContributor: { name: 'Storage Table Data Contributor', guid: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' },
  storageQueueDataContributor: { name: 'Storage Queue Data Contributor', guid: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' },
  serviceBusDataSender: { name: 'Azure Service Bus Data Sender', guid: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' },
  serviceBusDataReceiver: { name: 'Azure Service Bus Data Receiver', guid: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' },
  serviceBusDataOwner: { name: 'Azure Service Bus Data Owner', guid: '090c5cfd-751d-490a-894a-3ce6f1109419' },
  eventHubsDataSender: { name: 'Azure Event Hubs Data Sender', guid: '2b629674-e913-4c01-ae53-ef4638d8f975' },
  eventHubsDataReceiver: { name: 'Azure Event Hubs Data Receiver', guid: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde' },
  appConfigurationDataReader: { name: 'App Configuration Data Reader', guid: '516239f1-63e1-4d78-a4de-a74fb236a071' },
  /** Cosmos DB's built-in SQL data-plane role (azure-facts.md; Learn cosmos-db/how-to-setup-rbac). */
  cosmosBuiltInDataContributor: { name: 'Cosmos DB Built-in Data Contributor', guid: '00000000-0000-0000-0000-000000000002' },
} as const satisfies Record<string, CatalogueRole>;

/** Cosmos DB's built-in SQL data-plane roles, by name and id (the same ids in every account). */
export const COSMOS_SQL_BUILTIN_ROLES: readonly CatalogueRole[] = [
  { name: 'Cosmos DB Built-in Data Reader', guid: '00000000-0000-0000-0000-000000000001' },
  ROLES.cosmosBuiltInDataContributor,
];

export const COSMOS_ACCOUNT_TYPE = 'Microsoft.DocumentDB/databaseAccounts';

// ARM naming rules (Learn: azure-resource-manager/management/resource-name-rules), lower-cased as
// names are compared case-insensitively.
const STORAGE_NAME = /^[a-z0-9]{3,24}$/;
const VAULT_NAME = /^[a-z0-9-]{3,24}$/;
const SERVICE_BUS_NAME = /^[a-z][a-z0-9-]{4,48}[a-z0-9]$/;
const EVENT_HUBS_NAME = /^[a-z][a-z0-9-]{4,48}[a-z0-9]$/;
const APP_CONFIG_NAME = /^[a-z0-9-]{5,50}$/;
const COSMOS_NAME = /^[a-z0-9][a-z0-9-]{1,42}$/;

// Child names (Learn: azure-resource-manager/management/resource-name-rules, Microsoft.Storage and
// Microsoft.DocumentDB). Blob containers and queues: 3-63 lower-case letters, digits and single hyphens,
// starting and ending with a letter or digit; tables: 3-63 letters and digits, starting with a letter.
// Cosmos DB database and container ids may hold more (anything but / \ # ?); stricter here: letters,
// digits, '.', '_' and '-', not starting with '.', so no value can climb out of its scope.
const CONTAINER_OR_QUEUE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const COSMOS_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;
// Service Bus queues (up to 260 characters; Service Bus also allows '/' in entity paths, refused here) and
// event hubs (1-256 letters, digits, '.', '_', '-', starting and ending with a letter or digit).
const SERVICE_BUS_QUEUE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,258}[A-Za-z0-9])?$/;
const EVENT_HUB_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/;

const rbac = (...roles: CatalogueRole[]): CatalogueGrant => ({ kind: 'rbac', roles });

/**
 * Storage data roles at a container, queue or table scope: "The scope for a container is in the form
 * /subscriptions/<subscription>/resourceGroups/<resource-group>/providers/Microsoft.Storage/storageAccounts/
 * <storage-account>/blobServices/default/containers/<container>" (Learn: storage/blobs/assign-azure-role-data-access;
 * likewise queueServices/default/queues/<queue> in storage/queues/assign-azure-role-data-access and
 * tableServices/default/tables/<table> in storage/tables/assign-azure-role-data-access).
 */
const storageChild = (field: string, path: string, namePattern: RegExp, what: string, page: string): ScopeNarrowing => ({
  levels: [{ field, path, namePattern, what }],
  source: `https://learn.microsoft.com/azure/storage/${page}/assign-azure-role-data-access (metadata field '${field}': components-contrib metadata.yaml, required)`,
});
const blobContainer = (field: string) =>
  storageChild(field, 'blobServices/default/containers', CONTAINER_OR_QUEUE_NAME, 'blob container', 'blobs');

const blobAccount: CatalogueTarget = {
  field: 'accountName',
  spelling: 'name',
  resourceType: 'Microsoft.Storage/storageAccounts',
  namePattern: STORAGE_NAME,
  grant: rbac(ROLES.storageBlobDataContributor),
  // state.azure.blobstorage (v1, v2) and bindings.azure.blobstorage: `containerName`, required.
  narrowTo: blobContainer('containerName'),
};

/**
 * Service Bus: Dapr creates queues, topics and subscriptions itself unless `disableEntityManagement`
 * is "true" (components-contrib servicebus metadata.yaml); managing entities needs "Azure Service Bus
 * Data Owner", which "enables data access to Service Bus namespace and its entities, including
 * queues, topics, subscriptions, and filters" (Learn: service-bus-messaging/service-bus-managed-service-identity).
 */
const serviceBusNamespace: CatalogueTarget = {
  field: 'namespaceName',
  // "the address of the Service Bus namespace, as a fully-qualified domain name" (metadata.yaml).
  spelling: 'host',
  hostSuffixes: ['.servicebus.windows.net'],
  resourceType: 'Microsoft.ServiceBus/namespaces',
  namePattern: SERVICE_BUS_NAME,
  grant: rbac(ROLES.serviceBusDataSender, ROLES.serviceBusDataReceiver),
  entityManagement: {
    field: 'disableEntityManagement',
    managesWhen: 'not-true',
    grant: rbac(ROLES.serviceBusDataOwner),
    why: 'Dapr creates the queues, topics and subscriptions it uses unless disableEntityManagement is "true", which needs \'Azure Service Bus Data Owner\'',
  },
};

/**
 * Event Hubs: with `enableEntityManagement: "true"` Dapr creates hubs and consumer groups through
 * Azure Resource Manager (it then needs `subscriptionId` and `resourceGroupName`), i.e. management-plane
 * rights on the namespace, which this product does not hand out (components-contrib eventhubs metadata.yaml).
 */
const eventHubsTargets: readonly CatalogueTarget[] = [
  {
    field: 'eventHubNamespace',
    spelling: 'name-or-host',
    hostSuffixes: ['.servicebus.windows.net'],
    resourceType: 'Microsoft.EventHub/namespaces',
    namePattern: EVENT_HUBS_NAME,
    grant: rbac(ROLES.eventHubsDataSender, ROLES.eventHubsDataReceiver),
    entityManagement: {
      field: 'enableEntityManagement',
      managesWhen: 'true',
      why: 'with enableEntityManagement "true" Dapr creates event hubs and consumer groups through Azure Resource Manager, which needs management-plane rights the product does not grant',
    },
  },
  // The checkpoint store: Dapr keeps consumer offsets in blobs of this account, in the container
  // `storageContainerName` names (required in both eventhubs metadata.yaml files).
  { ...blobAccount, field: 'storageAccountName', narrowTo: blobContainer('storageContainerName') },
];

/**
 * The Event Hubs binding names its hub (`eventHub`, required with Microsoft Entra ID: bindings/azure/eventhubs
 * metadata.yaml); the pub/sub takes hubs from topic names at run time, so it stays on the namespace. "You can
 * assign roles at ... event hub: role assignment applies to the specific event hub entity" (Learn:
 * event-hubs/authorize-access-azure-active-directory), scope `<namespace>/eventhubs/<hub>`.
 */
const eventHubsBindingTargets: readonly CatalogueTarget[] = [
  {
    ...eventHubsTargets[0]!,
    narrowTo: {
      levels: [{ field: 'eventHub', path: 'eventhubs', namePattern: EVENT_HUB_NAME, what: 'event hub' }],
      source: 'https://learn.microsoft.com/azure/event-hubs/authorize-access-azure-active-directory (scope: the event hub entity)',
    },
  },
  eventHubsTargets[1]!,
];

const cosmosAccount: CatalogueTarget = {
  field: 'url',
  spelling: 'url',
  hostSuffixes: ['.documents.azure.com'],
  resourceType: COSMOS_ACCOUNT_TYPE,
  namePattern: COSMOS_NAME,
  grant: { kind: 'cosmos-sql', role: ROLES.cosmosBuiltInDataContributor },
  /**
   * A SQL role assignment's `scope` is "the data plane resource path for which access is being granted"
   * (cosmos-db rbac.json 2024-11-15, SqlRoleAssignmentResource.scope): the account, a database
   * (`/dbs/{db}`) or a container (`/dbs/{db}/colls/{container}`) (Learn: cosmos-db/how-to-setup-rbac;
   * Az.CosmosDB New-AzCosmosDBSqlRoleAssignment: ".../databaseAccounts/accountName/dbs/dbName").
   * Both fields are required in the state and binding metadata.yaml.
   */
  narrowTo: {
    levels: [
      { field: 'database', path: 'dbs', namePattern: COSMOS_ID, what: 'Cosmos DB database' },
      { field: 'collection', path: 'colls', namePattern: COSMOS_ID, what: 'Cosmos DB container' },
    ],
    source: 'https://learn.microsoft.com/azure/cosmos-db/how-to-setup-rbac (scope: account, /dbs/{db} or /dbs/{db}/colls/{container})',
  },
};

const DAPR_DOCS = 'https://docs.dapr.io/reference/components-reference';

export const DAPR_COMPONENT_CATALOGUE: readonly CatalogueEntry[] = [
  {
    componentType: 'secretstores.azure.keyvault',
    targets: [
      {
        field: 'vaultName',
        spelling: 'name',
        resourceType: 'Microsoft.KeyVault/vaults',
        namePattern: VAULT_NAME,
        grant: rbac(ROLES.keyVaultSecretsUser),
      },
    ],
    doc: `${DAPR_DOCS}/supported-secret-stores/azure-keyvault/`,
  },
  { componentType: 'state.azure.blobstorage', targets: [blobAccount], doc: `${DAPR_DOCS}/supported-state-stores/setup-azure-blobstorage/` },
  { componentType: 'bindings.azure.blobstorage', targets: [blobAccount], doc: `${DAPR_DOCS}/supported-bindings/blobstorage/` },
  {
    componentType: 'state.azure.tablestorage',
    targets: [
      {
        field: 'accountName',
        spelling: 'name',
        resourceType: 'Microsoft.Storage/storageAccounts',
        namePattern: STORAGE_NAME,
        grant: rbac(ROLES.storageTableDataContributor),
        narrowTo: storageChild('tableName', 'tableServices/default/tables', TABLE_NAME, 'table', 'tables'),
      },
    ],
    doc: `${DAPR_DOCS}/supported-state-stores/setup-azure-tablestorage/`,
    roleSource:
      'https://learn.microsoft.com/azure/storage/tables/assign-azure-role-data-access (read and write entities: Storage Table Data Contributor)',
  },
  {
    componentType: 'bindings.azure.storagequeues',
    targets: [
      {
        field: 'accountName',
        spelling: 'name',
        resourceType: 'Microsoft.Storage/storageAccounts',
        namePattern: STORAGE_NAME,
        grant: rbac(ROLES.storageQueueDataContributor),
        narrowTo: storageChild('queueName', 'queueServices/default/queues', CONTAINER_OR_QUEUE_NAME, 'queue', 'queues'),
      },
    ],
    doc: `${DAPR_DOCS}/supported-bindings/storagequeues/`,
    roleSource:
      'https://learn.microsoft.com/azure/storage/queues/assign-azure-role-data-access (send, read and delete messages: Storage Queue Data Contributor)',
  },
  {
    componentType: 'pubsub.azure.servicebus.topics',
    targets: [serviceBusNamespace],
    doc: `${DAPR_DOCS}/supported-pubsub/setup-azure-servicebus-topics/`,
    roleSource:
      'https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity (Data Sender, Data Receiver; Data Owner for entities)',
  },
  {
    componentType: 'pubsub.azure.servicebus.queues',
    targets: [serviceBusNamespace],
    doc: `${DAPR_DOCS}/supported-pubsub/setup-azure-servicebus-queues/`,
    roleSource: 'https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity',
  },
  {
    componentType: 'bindings.azure.servicebusqueues',
    // The binding names its queue (`queueName`, required); the pub/subs take topics and queues from
    // names at run time, so they stay on the namespace. "Queue, topic, or subscription: role assignment
    // applies to the specific Service Bus entity" (Learn: service-bus-messaging/service-bus-managed-service-identity).
    // While Dapr manages entities, Data Owner stays on the namespace, where the queue is created.
    targets: [
      {
        ...serviceBusNamespace,
        narrowTo: {
          levels: [{ field: 'queueName', path: 'queues', namePattern: SERVICE_BUS_QUEUE_NAME, what: 'Service Bus queue' }],
          source:
            'https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity (scope: a queue, topic or subscription)',
        },
      },
    ],
    doc: `${DAPR_DOCS}/supported-bindings/servicebusqueues/`,
    roleSource: 'https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity',
  },
  {
    componentType: 'pubsub.azure.eventhubs',
    targets: eventHubsTargets,
    doc: `${DAPR_DOCS}/supported-pubsub/setup-azure-eventhubs/`,
    roleSource:
      'https://learn.microsoft.com/azure/event-hubs/authorize-access-azure-active-directory (Data Sender, Data Receiver); checkpoint blobs: Storage Blob Data Contributor',
  },
  {
    componentType: 'bindings.azure.eventhubs',
    targets: eventHubsBindingTargets,
    doc: `${DAPR_DOCS}/supported-bindings/eventhubs/`,
    roleSource: 'https://learn.microsoft.com/azure/event-hubs/authorize-access-azure-active-directory',
  },
  {
    componentType: 'configuration.azure.appconfig',
    targets: [
      {
        field: 'host',
        spelling: 'url',
        hostSuffixes: ['.azconfig.io'],
        resourceType: 'Microsoft.AppConfiguration/configurationStores',
        namePattern: APP_CONFIG_NAME,
        grant: rbac(ROLES.appConfigurationDataReader),
      },
    ],
    doc: `${DAPR_DOCS}/supported-configuration-stores/azure-appconfig-configuration-store/`,
    roleSource:
      'https://learn.microsoft.com/azure/azure-app-configuration/concept-enable-rbac (read key-values: App Configuration Data Reader)',
  },
  { componentType: 'state.azure.cosmosdb', targets: [cosmosAccount], doc: `${DAPR_DOCS}/supported-state-stores/setup-azure-cosmosdb/` },
  { componentType: 'bindings.azure.cosmosdb', targets: [cosmosAccount], doc: `${DAPR_DOCS}/supported-bindings/cosmosdb/` },
];

const BY_TYPE = new Map(DAPR_COMPONENT_CATALOGUE.map((e) => [e.componentType.toLowerCase(), e]));

/** The catalogue entry of a component type (case-insensitive), or undefined for types it does not know. */
export function catalogueEntry(componentType: string): CatalogueEntry | undefined {
  return BY_TYPE.get(componentType.toLowerCase());
}

/** Every ARM type a catalogue target may be. */
export function catalogueTargetTypes(): string[] {
  return [...new Set(DAPR_COMPONENT_CATALOGUE.flatMap((e) => e.targets.map((t) => t.resourceType)))];
}

/**
 * The target's resource name from a metadata value, or why the value cannot name one. Nothing is
 * guessed: a value of the wrong shape, a host of another cloud or domain, or a name ARM would not
 * allow is refused.
 */
export function targetNameFrom(target: CatalogueTarget, value: string): { name: string } | { problem: string } {
  const raw = value.trim();
  let candidate: string | undefined;
  const hostName = (host: string): string | undefined => {
    const h = host.toLowerCase().replace(/\.$/, '');
    const suffix = (target.hostSuffixes ?? []).find((s) => h.endsWith(s));
    return suffix ? h.slice(0, -suffix.length) : undefined;
  };
  switch (target.spelling) {
    case 'name':
      candidate = raw.toLowerCase();
      break;
    case 'name-or-host':
      candidate = raw.includes('.') ? hostName(raw) : raw.toLowerCase();
      break;
    case 'host':
      candidate = hostName(raw);
      break;
    case 'url': {
      let url: URL | undefined;
      try {
        url = new URL(raw);
      } catch {
        url = undefined;
      }
      candidate = url && url.protocol === 'https:' && !url.username && !url.password ? hostName(url.hostname) : undefined;
      break;
    }
  }
  const expected =
    target.spelling === 'name'
      ? 'a name'
      : `a ${target.spelling === 'url' ? 'https URL' : 'host'} ending in ${(target.hostSuffixes ?? []).join(' or ')}`;
  if (candidate === undefined) return { problem: `'${clip(raw)}' in '${target.field}' is not ${expected}` };
  if (!target.namePattern.test(candidate))
    return { problem: `'${clip(candidate)}' (from '${target.field}') is not a valid ${target.resourceType} name` };
  return { name: candidate };
}

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}...` : s);

/**
 * The path below the target that the component's metadata names (`/blobServices/default/containers/state`,
 * `/dbs/orders/colls/items`), or why it names none the product may use. `read` gives a field's plain
 * value, or undefined when it is absent, empty or taken from a secret.
 */
export function scopeBelowTarget(
  target: CatalogueTarget,
  read: (field: string) => string | undefined,
): { path: string } | { problem: string; field: string } {
  let path = '';
  for (const level of target.narrowTo?.levels ?? []) {
    const value = read(level.field)?.trim();
    if (!value) return { field: level.field, problem: `no plain '${level.field}' naming its ${level.what}` };
    if (!level.namePattern.test(value) || value.includes('..'))
      return { field: level.field, problem: `'${clip(value)}' (from '${level.field}') is not a valid ${level.what} name` };
    path += `/${level.path}/${value}`;
  }
  return { path };
}
