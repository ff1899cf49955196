import { COSMOS_ACCOUNT_TYPE } from './handlers/cosmos-sql-rbac';
import { MANAGED_ENVIRONMENT_TYPE, putComponent } from './handlers/dapr-components';
import { SEED_TYPES, seedResource } from './seed';
import { type EmulatorState, type Json, key } from './state';

/**
 * Seeds for Dapr on Container Apps and Cosmos DB, shaped like the official examples
 * (Azure/azure-rest-api-specs Microsoft.App stable/2024-03-01 examples/ManagedEnvironments_Get.json and
 * DaprComponents_Get_SecretStoreComponent.json; Microsoft.DocumentDB stable/2024-11-15
 * examples/CosmosDBDatabaseAccountGet.json): only the members the product reads are kept.
 */

function ensureGroup(state: EmulatorState, subscriptionId: string, resourceGroup: string, location: string): void {
  if (!state.resourceGroups.has(key(`/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`)))
    state.addResourceGroup(subscriptionId, resourceGroup, location);
}

/** A Container Apps managed environment (the container app seed points at `env-demo` in its own group). */
export function seedManagedEnvironment(
  state: EmulatorState,
  input: { subscriptionId: string; resourceGroup: string; name: string; location?: string },
): string {
  const location = input.location ?? 'westeurope';
  ensureGroup(state, input.subscriptionId, input.resourceGroup, location);
  const id = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}/providers/${MANAGED_ENVIRONMENT_TYPE}/${input.name}`;
  if (!state.resource(id)) {
    state.resources.set(key(id), {
      id,
      body: {
        id,
        name: input.name,
        type: MANAGED_ENVIRONMENT_TYPE,
        location,
        properties: {
          provisioningState: 'Succeeded',
          defaultDomain: `${input.name}.westeurope.azurecontainerapps.io`,
          zoneRedundant: false,
        },
      },
    });
  }
  return id;
}

export interface DaprComponentSeed {
  componentType: string;
  version?: string;
  metadata: Array<{ name: string; value?: string; secretRef?: string }>;
  scopes?: string[];
  /** Inline secrets carry a value (write-only); Key Vault ones a keyVaultUrl and identity. */
  secrets?: Json[];
}

export function seedDaprComponent(state: EmulatorState, environmentId: string, name: string, seed: DaprComponentSeed): string {
  const body = putComponent(state, environmentId, name, {
    componentType: seed.componentType,
    version: seed.version ?? 'v1',
    ignoreErrors: false,
    initTimeout: '50s',
    metadata: seed.metadata,
    ...(seed.scopes ? { scopes: seed.scopes } : {}),
    ...(seed.secrets ? { secrets: seed.secrets } : {}),
  });
  return String(body.id);
}

/** A Cosmos DB account (SQL API) with its document endpoint, as the Dapr component's `url` names it. */
export function seedCosmosAccount(
  state: EmulatorState,
  input: {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    location?: string;
    tags?: Record<string, string>;
    disableLocalAuth?: boolean;
  },
): string {
  const location = input.location ?? 'westeurope';
  ensureGroup(state, input.subscriptionId, input.resourceGroup, location);
  const id = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}/providers/${COSMOS_ACCOUNT_TYPE}/${input.name}`;
  state.resources.set(key(id), {
    id,
    body: {
      id,
      name: input.name,
      type: COSMOS_ACCOUNT_TYPE,
      location,
      kind: 'GlobalDocumentDB',
      tags: input.tags ?? {},
      properties: {
        provisioningState: 'Succeeded',
        documentEndpoint: `https://${input.name}.documents.azure.com:443/`,
        databaseAccountOfferType: 'Standard',
        disableLocalAuth: input.disableLocalAuth ?? false,
      },
    },
  });
  return id;
}

/**
 * A container app in any managed environment (another resource group's included: an environment hosts
 * apps of any resource group), with its Dapr settings as written. ContainerApps.json (Microsoft.App
 * stable/2024-03-01, `Dapr`) keeps `enabled` and `appId` apart and states no uniqueness of `appId` in an
 * environment, and Learn (container-apps/dapr-overview) documents none: so, like Azure as far as any
 * source says, the emulator refuses neither a duplicate app id nor an app id on an app with Dapr off,
 * and its Resource Graph rows carry `properties.configuration.dapr` exactly as written.
 */
export function seedDaprApp(
  state: EmulatorState,
  input: {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    environmentId: string;
    appId?: string;
    daprEnabled?: boolean;
    tags?: Record<string, string>;
    identity?: Json;
  },
): string {
  const dapr: Json = { enabled: input.daprEnabled ?? true, appPort: 8080 };
  if (input.appId !== undefined) dapr.appId = input.appId;
  return seedResource(state, {
    subscriptionId: input.subscriptionId,
    resourceGroup: input.resourceGroup,
    type: SEED_TYPES.containerApp,
    name: input.name,
    ...(input.tags ? { tags: input.tags } : {}),
    ...(input.identity ? { identity: input.identity } : {}),
    properties: {
      managedEnvironmentId: input.environmentId,
      environmentId: input.environmentId,
      configuration: { activeRevisionsMode: 'Single', dapr },
    },
  });
}

/**
 * A target with its local-authentication switch as the RP's GET (and so Resource Graph) shows it:
 * storage accounts carry `allowSharedKeyAccess` (absent until set, which permits Shared Key: Learn
 * storage/common/shared-key-authorization-prevent); Service Bus and Event Hubs namespaces and App
 * Configuration stores carry `disableLocalAuth` (false unless set: Learn service-bus-messaging/
 * disable-local-authentication, azure-app-configuration/howto-disable-access-key-authentication).
 * `localAuth`: `unset` leaves the property out, as a GET of an account never configured shows it.
 */
export function seedLocalAuthTarget(
  state: EmulatorState,
  input: {
    subscriptionId: string;
    resourceGroup: string;
    type: string;
    name: string;
    localAuth: 'on' | 'off' | 'unset';
    location?: string;
  },
): string {
  const location = input.location ?? 'westeurope';
  ensureGroup(state, input.subscriptionId, input.resourceGroup, location);
  const id = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}/providers/${input.type}/${input.name}`;
  const storage = input.type.toLowerCase() === 'microsoft.storage/storageaccounts';
  const properties: Json = { provisioningState: 'Succeeded' };
  if (input.localAuth !== 'unset') {
    if (storage) properties.allowSharedKeyAccess = input.localAuth === 'on';
    else properties.disableLocalAuth = input.localAuth === 'off';
  }
  state.resources.set(key(id), { id, body: { id, name: input.name, type: input.type, location, tags: {}, properties } });
  return id;
}
