import { randomUUID } from 'node:crypto';
import type { CoversCatalogue, SupportedResourceType } from '../../src/arm/resource-types';
import { stampEtags } from './etags';
import { type Creator, createUserAssignedIdentityRecord } from './handlers/user-assigned-identities';
import { applyIdentity } from './identity';
import { keyVaultProperties } from './key-vault';
import { resourceTypeModel, tracksProvisioningState } from './resource-types';
import { oidcIssuerUrl } from './resource-types/managed-clusters';
import { type EmulatorState, type Json, key } from './state';

/** A label per catalogued type, for test names and seeded resource names. */
export const SEED_TYPES = {
  webApp: 'Microsoft.Web/sites',
  deploymentSlot: 'Microsoft.Web/sites/slots',
  containerApp: 'Microsoft.App/containerApps',
  containerAppJob: 'Microsoft.App/jobs',
  virtualMachine: 'Microsoft.Compute/virtualMachines',
  scaleSet: 'Microsoft.Compute/virtualMachineScaleSets',
  containerGroup: 'Microsoft.ContainerInstance/containerGroups',
  managedCluster: 'Microsoft.ContainerService/managedClusters',
} as const;
// Every catalogued type has a seed label: a type added to the catalogue alone does not compile.
const seedsCoverCatalogue: CoversCatalogue<(typeof SEED_TYPES)[keyof typeof SEED_TYPES]> = true;
void seedsCoverCatalogue;

/** `parent`: the name of the resource a child type lives under (a slot's site). */
type SeedBody = (sub: string, rg: string, name: string, parent?: string) => Json;

/** Realistic bodies, shaped like what each RP returns for a freshly created resource; one per catalogued type. */
const SEED_BODIES: Readonly<Record<SupportedResourceType, SeedBody>> = {
  'Microsoft.Web/sites': (sub, rg, name) => ({
    kind: 'app,linux',
    properties: {
      state: 'Running',
      serverFarmId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Web/serverfarms/plan-${name}`,
      defaultHostName: `${name}.azurewebsites.net`,
      httpsOnly: true,
      siteConfig: { linuxFxVersion: 'NODE|20-lts' },
    },
  }),
  // Shaped like GetWebAppSlot.json (web 2024-04-01 examples): the slot runs on its site's plan and is
  // reached at `{site}-{slot}.azurewebsites.net`.
  'Microsoft.Web/sites/slots': (sub, rg, name, parent) => ({
    kind: 'app,linux',
    properties: {
      state: 'Running',
      serverFarmId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Web/serverfarms/plan-${parent}`,
      defaultHostName: `${parent}-${name}.azurewebsites.net`,
      repositorySiteName: parent,
      httpsOnly: true,
      siteConfig: { linuxFxVersion: 'NODE|20-lts' },
    },
  }),
  'Microsoft.App/containerApps': (sub, rg, name) => ({
    properties: {
      managedEnvironmentId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-demo`,
      environmentId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-demo`,
      configuration: { activeRevisionsMode: 'Single', dapr: { enabled: true, appId: name, appPort: 8080 } },
      template: { containers: [{ name, image: 'mcr.microsoft.com/k8se/quickstart:latest', resources: { cpu: 0.5, memory: '1Gi' } }] },
    },
  }),
  // Shaped like Job_Get.json (app 2024-03-01 examples): a manually triggered job in a managed environment.
  'Microsoft.App/jobs': (sub, rg, name) => ({
    properties: {
      environmentId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-demo`,
      configuration: {
        replicaTimeout: 1800,
        replicaRetryLimit: 1,
        manualTriggerConfig: { replicaCompletionCount: 1, parallelism: 1 },
        triggerType: 'Manual',
      },
      template: {
        containers: [{ name, image: 'mcr.microsoft.com/k8se/quickstart-jobs:latest', resources: { cpu: 0.25, memory: '0.5Gi' } }],
      },
    },
  }),
  'Microsoft.Compute/virtualMachines': (sub, rg, name) => ({
    properties: {
      vmId: randomUUID(),
      hardwareProfile: { vmSize: 'Standard_B2s' },
      storageProfile: {
        imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
        osDisk: { createOption: 'FromImage' },
      },
      osProfile: { computerName: name, adminUsername: 'azureuser' },
      networkProfile: {
        networkInterfaces: [{ id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkInterfaces/${name}-nic` }],
      },
    },
  }),
  'Microsoft.Compute/virtualMachineScaleSets': (_sub, _rg, name) => ({
    sku: { name: 'Standard_B2s', tier: 'Standard', capacity: 2 },
    properties: {
      uniqueId: randomUUID(),
      upgradePolicy: { mode: 'Manual' },
      virtualMachineProfile: { osProfile: { computerNamePrefix: name, adminUsername: 'azureuser' } },
    },
  }),
  'Microsoft.ContainerInstance/containerGroups': (_sub, _rg, name) => ({
    properties: {
      sku: 'Standard',
      osType: 'Linux',
      restartPolicy: 'Always',
      containers: [
        {
          name,
          properties: {
            image: 'mcr.microsoft.com/azuredocs/aci-helloworld',
            ports: [{ port: 80 }],
            resources: { requests: { cpu: 1, memoryInGB: 1.5 } },
          },
        },
      ],
      ipAddress: { type: 'Public', ports: [{ protocol: 'TCP', port: 80 }] },
      // Group state (Learn: container-instances/container-state): Running, Pending, Stopped, Succeeded, Failed.
      instanceView: { state: 'Running', events: [] },
    },
  }),
  // Shaped like ManagedClustersGet / ManagedClustersCreate_Update (azure-rest-api-specs,
  // containerservice aks/stable/2024-09-01/examples, commits 13ee5b9b / cfc781db). Identity,
  // identityProfile, servicePrincipalProfile and nodeResourceGroup are set by seedManagedCluster.
  'Microsoft.ContainerService/managedClusters': (_sub, _rg, name) => ({
    sku: { name: 'Base', tier: 'Free' },
    properties: {
      maxAgentPools: 100,
      kubernetesVersion: '1.30.6',
      currentKubernetesVersion: '1.30.6',
      dnsPrefix: name,
      fqdn: `${name}-dns-4f1c2a7b.hcp.westeurope.azmk8s.io`,
      azurePortalFQDN: `${name}-dns-4f1c2a7b.portal.hcp.westeurope.azmk8s.io`,
      agentPoolProfiles: [
        {
          name: 'nodepool1',
          count: 3,
          vmSize: 'Standard_DS2_v2',
          maxPods: 110,
          type: 'VirtualMachineScaleSets',
          mode: 'System',
          osType: 'Linux',
          osSKU: 'Ubuntu',
          provisioningState: 'Succeeded',
          orchestratorVersion: '1.30.6',
          currentOrchestratorVersion: '1.30.6',
          nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202411.12.0',
          upgradeSettings: { maxSurge: '10%' },
        },
      ],
      enableRBAC: true,
      networkProfile: {
        networkPlugin: 'kubenet',
        podCidr: '10.244.0.0/16',
        serviceCidr: '10.0.0.0/16',
        dnsServiceIP: '10.0.0.10',
        loadBalancerSku: 'standard',
        outboundType: 'loadBalancer',
        podCidrs: ['10.244.0.0/16'],
        serviceCidrs: ['10.0.0.0/16'],
        ipFamilies: ['IPv4'],
      },
    },
  }),
};

export interface SeedResourceInput {
  subscriptionId: string;
  resourceGroup: string;
  type: string;
  name: string;
  location?: string;
  tags?: Record<string, string>;
  /** An identity block as a client would send it, e.g. `{ type: 'UserAssigned', userAssignedIdentities: { [id]: {} } }`. */
  identity?: Json;
  /** Merged over the type's default `properties` (e.g. ACI secrets, `instanceView.state: 'Stopped'`), as created. */
  properties?: Json;
  /**
   * AKS only: a cluster created with a service principal (this application's client id) instead of a
   * managed identity. Without it a cluster is a managed-identity one (system-assigned unless `identity`
   * says otherwise), as `az aks create` makes by default.
   */
  servicePrincipalClientId?: string;
  /** The resource id of whatever manages this resource (ARM's top-level `managedBy`). */
  managedBy?: string;
  /**
   * AKS only: the OIDC issuer and workload identity (`properties.oidcIssuerProfile`,
   * `properties.securityProfile.workloadIdentity`). Default: neither, as `az aks create` without
   * `--enable-oidc-issuer --enable-workload-identity` makes a cluster before Kubernetes 1.34 (Learn: aks/use-oidc-issuer).
   */
  workloadIdentity?: { oidcIssuer: boolean; workloadIdentity: boolean };
  /** Scale sets: `upgradePolicy.mode` (the seed's default is Manual, Azure's default). */
  upgradePolicy?: 'Manual' | 'Automatic' | 'Rolling';
  /**
   * Child types (deployment slots): the name of the parent (the site). Default `site-<name>`; a parent
   * that does not exist yet is seeded first, as a slot cannot exist without its site.
   */
  parent?: string;
}

/** Puts a resource straight into the emulator's store, as if someone had just created it. */
export function seedResource(state: EmulatorState, input: SeedResourceInput): string {
  const model = resourceTypeModel(input.type);
  if (!model) throw new Error(`Unknown type ${input.type}`);
  const rgId = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}`;
  if (!state.resourceGroups.has(key(rgId))) state.addResourceGroup(input.subscriptionId, input.resourceGroup, input.location);
  const parent = model.parentType ? seedParent(state, input, model.parentType) : undefined;
  const id = parent ? `${parent.id}/${model.type.split('/').pop()}/${input.name}` : `${rgId}/providers/${model.type}/${input.name}`;
  const extra = SEED_BODIES[model.type as SupportedResourceType](input.subscriptionId, input.resourceGroup, input.name, parent?.name);
  const name = parent ? `${parent.name}/${input.name}` : input.name; // Web names a slot `site/slot` (GetWebAppSlot.json)
  const body: Json = { id, name, type: model.type, location: input.location ?? 'westeurope', tags: input.tags ?? {}, ...extra };
  body.properties = { ...(body.properties as Json), ...structuredClone(input.properties ?? {}) };
  if (tracksProvisioningState(body)) body.properties.provisioningState = 'Succeeded';
  if (input.managedBy) body.managedBy = input.managedBy;
  if (input.upgradePolicy && body.properties.upgradePolicy) body.properties.upgradePolicy = { mode: input.upgradePolicy };
  if (input.identity) body.identity = applyIdentity(state, undefined, input.identity, model.identityTypes).identity;
  if (model.type === SEED_TYPES.managedCluster) seedManagedCluster(state, input, id, body);
  if (model.etags) stampEtags(body);
  state.resources.set(key(id), { id, body });
  return id;
}

/** The parent of a child resource being seeded, seeded too when it does not exist yet. */
function seedParent(state: EmulatorState, input: SeedResourceInput, parentType: string): { id: string; name: string } {
  const name = input.parent ?? `site-${input.name}`;
  const id = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}/providers/${parentType}/${name}`;
  if (state.resource(id)) return { id, name };
  return {
    id: seedResource(state, {
      subscriptionId: input.subscriptionId,
      resourceGroup: input.resourceGroup,
      type: parentType,
      name,
      location: input.location,
    }),
    name,
  };
}

/**
 * What AKS adds around a cluster: the node resource group `MC_<rg>_<name>_<location>`, which carries
 * `managedBy` = the cluster id (Learn: aks/node-resource-group-lockdown; `nodeResourceGroup` in the
 * spec examples), and in it the kubelet identity `<name>-agentpool`, a real user-assigned identity
 * whose resourceId/clientId/objectId appear in `properties.identityProfile.kubeletidentity`.
 * A managed-identity cluster has `identity` and `servicePrincipalProfile.clientId: "msi"`; a
 * service-principal cluster has no `identity`, no `identityProfile`, and the application's client id.
 */
function seedManagedCluster(state: EmulatorState, input: SeedResourceInput, id: string, body: Json): void {
  const location = String(body.location);
  const nodeResourceGroup = `MC_${input.resourceGroup}_${input.name}_${location}`;
  const nodeRgId = state.addResourceGroup(input.subscriptionId, nodeResourceGroup, location);
  const wi = input.workloadIdentity ?? { oidcIssuer: false, workloadIdentity: false };
  // Shaped like ManagedClustersCreate_SecurityProfile (2024-09-01 examples, commit 1eb311c3) and Learn's issuer URL.
  body.properties.oidcIssuerProfile = { enabled: wi.oidcIssuer, ...(wi.oidcIssuer ? { issuerURL: oidcIssuerUrl(state, location) } : {}) };
  if (wi.workloadIdentity) body.properties.securityProfile = { workloadIdentity: { enabled: true } };
  state.resourceGroups.get(key(nodeRgId))!.body.managedBy = id;
  body.properties.nodeResourceGroup = nodeResourceGroup;
  if (input.servicePrincipalClientId) {
    delete body.identity;
    body.properties.servicePrincipalProfile = { clientId: input.servicePrincipalClientId };
    return;
  }
  body.identity ??= applyIdentity(
    state,
    undefined,
    { type: 'SystemAssigned' },
    resourceTypeModel(SEED_TYPES.managedCluster)!.identityTypes,
  ).identity;
  body.properties.servicePrincipalProfile = { clientId: 'msi' };
  const kubelet = seedUserAssignedIdentity(state, {
    subscriptionId: input.subscriptionId,
    resourceGroup: nodeResourceGroup,
    name: `${input.name}-agentpool`,
    location,
  });
  body.properties.identityProfile = {
    kubeletidentity: { resourceId: kubelet.id, clientId: kubelet.properties.clientId, objectId: kubelet.properties.principalId },
  };
}

/**
 * Seeds a user-assigned identity with its principal. `createdBy` is who ARM records as its maker in
 * `systemData` (default: a person, SEED_CREATOR); `creatorOf(emulator.appPrincipal)` seeds one as if the
 * app had made it.
 */
export function seedUserAssignedIdentity(
  state: EmulatorState,
  input: { subscriptionId: string; resourceGroup: string; name: string; location?: string; tags?: Json; createdBy?: Creator },
): Json {
  const rgId = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}`;
  if (!state.resourceGroups.has(key(rgId))) state.addResourceGroup(input.subscriptionId, input.resourceGroup, input.location);
  const id = `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${input.name}`;
  const body = createUserAssignedIdentityRecord(state, id, input.name, input.location ?? 'westeurope', input.tags, input.createdBy);
  state.resources.set(key(id), { id, body });
  return body;
}

/**
 * A resource of a type the emulator does not serve (a Key Vault, a storage account), present only so
 * role assignments can be scoped to it.
 */
export function seedScopeResource(
  state: EmulatorState,
  id: string,
  location = 'westeurope',
  tags: Record<string, string> = {},
  /**
   * Key Vaults: the permission model. Seeds default to RBAC (what `az keyvault create` sets since Azure
   * CLI 2.61); `false`, or `null` for the property left out (the RP's default, access policies).
   */
  vault: { enableRbacAuthorization?: boolean | null } = {},
): string {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`not a resource id: ${id}`);
  const rgId = `/subscriptions/${m[1]}/resourceGroups/${m[2]}`;
  if (!state.resourceGroups.has(key(rgId))) state.addResourceGroup(m[1]!, m[2]!, location);
  const rbac = vault.enableRbacAuthorization === null ? undefined : (vault.enableRbacAuthorization ?? true);
  const properties = /^Microsoft\.KeyVault\/vaults$/i.test(m[3]!) ? keyVaultProperties(state, m[4]!, rbac) : {};
  state.resources.set(key(id), { id, body: { id, name: m[4], type: m[3], location, tags, properties } });
  return id;
}

/**
 * A child of a seeded resource that role assignments can be scoped to (a blob container, a queue, a
 * table: `blobServices/default/containers/state`). ARM refuses a role assignment whose scope does not
 * exist (handlers/role-assignments.ts), so a grant at a container needs the container seeded.
 */
export function seedChildScope(state: EmulatorState, parentId: string, childPath: string): string {
  const parent = state.resource(parentId);
  if (!parent) throw new Error(`no parent resource ${parentId}`);
  const segments = childPath.split('/').filter(Boolean);
  if (segments.length % 2 !== 0) throw new Error(`not a child path (type/name pairs): ${childPath}`);
  const type = [String(parent.body.type), ...segments.filter((_, i) => i % 2 === 0)].join('/');
  const id = `${parent.id}/${segments.join('/')}`;
  state.resources.set(key(id), { id, body: { id, name: segments.at(-1), type, properties: {} } });
  return id;
}
