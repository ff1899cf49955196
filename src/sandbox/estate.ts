import { type ArmEmulator, SEED_TYPES, seedResource, seedScopeResource, seedUserAssignedIdentity } from '../../tools/arm-emulator';

import { seedSecretlessDemo } from './secretless-estate';

export const SANDBOX_SUBSCRIPTION = '5a5d60a8-0000-4000-8000-0000000000de';

export interface DemoResource {
  id: string;
  label: string;
}

/**
 * The demo estate: one resource of each supported type, one that already has a user-assigned
 * identity, one opted out, and a Dapr app that gets a user-assigned identity of its own.
 */
export function seedDemoEstate(emulator: ArmEmulator): DemoResource[] {
  const state = emulator.state;
  const sub = SANDBOX_SUBSCRIPTION;
  state.addSubscription(sub, 'Contoso Demo');
  const vault = seedScopeResource(
    state,
    `/subscriptions/${sub}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-demo-shared`,
  );
  seedScopeResource(state, `/subscriptions/${sub}/resourceGroups/rg-shared/providers/Microsoft.Storage/storageAccounts/stdemoshared`);
  const platformIdentity = seedUserAssignedIdentity(state, { subscriptionId: sub, resourceGroup: 'rg-shared', name: 'id-platform' });
  seedSecretlessDemo(state, sub);
  const r = (label: string, input: Omit<Parameters<typeof seedResource>[1], 'subscriptionId'>): DemoResource => ({
    label,
    id: seedResource(state, { subscriptionId: sub, ...input }),
  });
  return [
    r('web app', {
      resourceGroup: 'rg-web',
      type: SEED_TYPES.webApp,
      name: 'app-storefront',
      tags: { 'identity-autopilot-profiles': 'vault-secrets', 'kv-id': vault },
    }),
    r('container app (Dapr)', {
      resourceGroup: 'rg-dapr',
      type: SEED_TYPES.containerApp,
      name: 'orders',
      tags: { 'identity-autopilot-profiles': 'vault-secrets', 'kv-id': vault },
    }),
    r('virtual machine', { resourceGroup: 'rg-vm', type: SEED_TYPES.virtualMachine, name: 'vm-build-agent' }),
    // Manual upgrade policy (Azure's default): reported pending under a rule without the opt-in,
    // upgraded (manualupgrade) under the rule that has `workload: { upgradeInstances: true }`.
    r('VM scale set, Manual policy', { resourceGroup: 'rg-vm', type: SEED_TYPES.scaleSet, name: 'vmss-workers' }),
    r('VM scale set, Manual, opted in', { resourceGroup: 'rg-batch', type: SEED_TYPES.scaleSet, name: 'vmss-batch' }),
    r('container group', { resourceGroup: 'rg-jobs', type: SEED_TYPES.containerGroup, name: 'aci-nightly-report' }),
    // A secure environment variable: Azure never returns it on GET, so the group is reported, not PUT.
    r('container group with a secret', {
      resourceGroup: 'rg-jobs',
      type: SEED_TYPES.containerGroup,
      name: 'aci-billing-export',
      properties: {
        containers: [
          {
            name: 'export',
            properties: {
              image: 'mcr.microsoft.com/azuredocs/aci-helloworld',
              resources: { requests: { cpu: 1, memoryInGB: 1.5 } },
              environmentVariables: [{ name: 'DB_PASSWORD', secureValue: 'sandbox-only' }],
            },
          },
        ],
      },
    }),
    r('AKS cluster', { resourceGroup: 'rg-aks', type: SEED_TYPES.managedCluster, name: 'aks-platform' }),
    // OIDC issuer and workload identity on: its service account gets an identity and a federated credential.
    r('AKS cluster, workload identity', {
      resourceGroup: 'rg-aks-wi',
      type: SEED_TYPES.managedCluster,
      name: 'aks-payments',
      workloadIdentity: { oidcIssuer: true, workloadIdentity: true },
    }),
    r('web app, existing UAMI', {
      resourceGroup: 'rg-web',
      type: SEED_TYPES.webApp,
      name: 'app-legacy',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [platformIdentity.id]: {} } },
    }),
    r('AKS node pool (platform-managed)', aksNodePool(emulator)),
    r('web app, opted out', {
      resourceGroup: 'rg-web',
      type: SEED_TYPES.webApp,
      name: 'app-optout',
      tags: { 'identity-autopilot-optout': 'true' },
    }),
  ];
}

/**
 * The scale set AKS runs a node pool on, in the cluster's node resource group, which carries the
 * cluster's id in `managedBy` (as AKS sets it): the product must leave it alone.
 */
function aksNodePool(emulator: ArmEmulator): Omit<Parameters<typeof seedResource>[1], 'subscriptionId'> {
  const sub = SANDBOX_SUBSCRIPTION;
  const cluster = `/subscriptions/${sub}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-platform`;
  const group = 'MC_rg-aks_aks-platform_westeurope';
  const groupId = `/subscriptions/${sub}/resourceGroups/${group}`;
  if (!emulator.state.resourceGroups.has(groupId.toLowerCase())) emulator.state.addResourceGroup(sub, group, 'westeurope', {}, cluster);
  emulator.state.resourceGroups.get(groupId.toLowerCase())!.body.managedBy ??= cluster;
  return { resourceGroup: group, type: SEED_TYPES.scaleSet, name: 'aks-nodepool1-12345678-vmss', upgradePolicy: 'Manual' };
}

/**
 * What `npm run sandbox` adds to the estate the CLI's `--sandbox` also uses (whose counts its tests
 * pin): the staging slot a pipeline creates on the storefront, which a swap never gives an identity
 * (a user-assigned one named after its site with {parentName}), and a Container Apps job.
 */
export function seedSlotAndJob(emulator: ArmEmulator): DemoResource[] {
  const state = emulator.state;
  const subscriptionId = SANDBOX_SUBSCRIPTION;
  return [
    {
      label: 'deployment slot of app-storefront',
      id: seedResource(state, {
        subscriptionId,
        resourceGroup: 'rg-web',
        type: SEED_TYPES.deploymentSlot,
        parent: 'app-storefront',
        name: 'staging',
      }),
    },
    {
      label: 'container app job',
      id: seedResource(state, { subscriptionId, resourceGroup: 'rg-jobs', type: SEED_TYPES.containerAppJob, name: 'job-invoice-export' }),
    },
  ];
}

/**
 * What looks done but would not work in Azure, so the product does not do it (sandbox only, like the slot
 * and job): a web app tagged with a Key Vault that uses access policies (Azure ignores role assignments for
 * its data: blocked, with the remedy), and a scale set in Flexible orchestration, which holds user-assigned
 * identities only (its rule attaches one; its VMs are governed as VMs).
 */
export function seedAzureTruthCases(emulator: ArmEmulator): DemoResource[] {
  const state = emulator.state;
  const subscriptionId = SANDBOX_SUBSCRIPTION;
  const policiesVault = seedScopeResource(
    state,
    `/subscriptions/${subscriptionId}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-legacy-policies`,
    'westeurope',
    {},
    { enableRbacAuthorization: false },
  );
  return [
    {
      label: 'web app, access-policy vault',
      id: seedResource(state, {
        subscriptionId,
        resourceGroup: 'rg-web',
        type: SEED_TYPES.webApp,
        name: 'app-legacy-secrets',
        tags: { 'identity-autopilot-profiles': 'vault-secrets', 'kv-id': policiesVault },
      }),
    },
    {
      label: 'VM scale set, Flexible',
      id: seedResource(state, {
        subscriptionId,
        resourceGroup: 'rg-flex',
        type: SEED_TYPES.scaleSet,
        name: 'vmss-flex-web',
        properties: { orchestrationMode: 'Flexible' },
      }),
    },
  ];
}
