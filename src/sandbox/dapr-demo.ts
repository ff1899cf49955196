import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import {
  type ArmEmulator,
  compileKql,
  cosmosAssignments,
  resourceWriteEvent,
  SEED_TYPES,
  seedChildScope,
  seedCosmosAccount,
  seedDaprComponent,
  seedManagedEnvironment,
  seedResource,
  seedScopeResource,
} from '../../tools/arm-emulator';
import type { Autopilot } from '../app/composition';
import { formatTable } from '../app/text-table';
import { isWithinScope } from '../arm/resource-id';
import { builtinRoleById } from '../config';
import { triggerNamed } from '../functions/triggers';
import { SANDBOX_SUBSCRIPTION } from './estate';
import type { LogLine } from './log-line';

const RG = 'rg-orders';

/**
 * A Dapr container app with four Azure components (Key Vault secret store, Blob state store, Service Bus
 * pub/sub, Cosmos DB state store) in its managed environment. One ResourceWriteSuccess event for the
 * app: the product attaches the rule's user-assigned identity, grants each component's target exactly
 * what the catalogue names (Cosmos DB as a data-plane SQL role assignment), and sets the components'
 * azureClientId, since the app now has two identities.
 */
export async function runDaprDemo(emulator: ArmEmulator, app: Autopilot, out: (text: string) => void): Promise<void> {
  const state = emulator.state;
  const sub = SANDBOX_SUBSCRIPTION;
  const env = seedManagedEnvironment(state, { subscriptionId: sub, resourceGroup: RG, name: 'env-demo' });
  const id = (type: string, name: string) => `/subscriptions/${sub}/resourceGroups/${RG}/providers/${type}/${name}`;
  seedScopeResource(state, id('Microsoft.KeyVault/vaults', 'kv-orders'));
  // The blob container the state store names: its grant is made there, not on the account (it must exist).
  seedChildScope(
    state,
    seedScopeResource(state, id('Microsoft.Storage/storageAccounts', 'storders')),
    'blobServices/default/containers/orders',
  );
  seedScopeResource(state, id('Microsoft.ServiceBus/namespaces', 'sb-orders'));
  const cosmos = seedCosmosAccount(state, { subscriptionId: sub, resourceGroup: RG, name: 'cosmos-orders' });
  const scopes = ['checkout'];
  seedDaprComponent(state, env, 'secretstore', {
    componentType: 'secretstores.azure.keyvault',
    metadata: [{ name: 'vaultName', value: 'kv-orders' }],
    scopes,
  });
  seedDaprComponent(state, env, 'statestore', {
    componentType: 'state.azure.blobstorage',
    metadata: [
      { name: 'accountName', value: 'storders' },
      { name: 'containerName', value: 'orders' },
    ],
    scopes,
  });
  seedDaprComponent(state, env, 'pubsub', {
    componentType: 'pubsub.azure.servicebus.topics',
    metadata: [
      { name: 'namespaceName', value: 'sb-orders.servicebus.windows.net' },
      { name: 'disableEntityManagement', value: 'true' },
    ],
    scopes,
  });
  seedDaprComponent(state, env, 'orders-cosmos', {
    componentType: 'state.azure.cosmosdb',
    metadata: [
      { name: 'url', value: 'https://cosmos-orders.documents.azure.com:443/' },
      { name: 'database', value: 'orders' },
      { name: 'collection', value: 'state' },
    ],
    scopes,
  });
  // The app already has a system-assigned identity; the rule adds a user-assigned one: two identities,
  // so Dapr must be told which one to use.
  const checkout = seedResource(state, {
    subscriptionId: sub,
    resourceGroup: RG,
    type: SEED_TYPES.containerApp,
    name: 'checkout',
    identity: { type: 'SystemAssigned' },
  });

  // The emulator's Resource Graph parses KQL with Microsoft's parser compiled to JavaScript, which takes
  // seconds to load the first time (real Resource Graph answers in well under a second): load it now.
  compileKql('resources | take 1');
  const lines: Array<LogLine> = [];
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'resourceWriteSuccess',
    logHandler: (_l, ...args) => args.forEach((a) => lines.push(JSON.parse(String(a)))),
  });
  await triggerNamed('eventGrid', 'resourceWriteSuccess', () => app).handler(resourceWriteEvent({ resourceId: checkout }), context);
  const outcome = lines.find((l) => l.event === 'remediation.outcome');
  if (outcome?.status !== 'remediated')
    throw new Error(`the Dapr demo app was not remediated: ${JSON.stringify(outcome?.errors ?? lines)}`);
  out(`Dapr: container app 'checkout' (Dapr app id 'checkout') in ${RG}, four components scoped to it; outcome ${outcome.status}.\n`);
  out(
    `Grants went to the user-assigned identity ${outcome.grantee?.identityId?.split('/').pop()} (clientId ${outcome.grantee?.clientId}).\n`,
  );
  const rows: string[][] = [];
  for (const c of outcome.dapr?.components ?? []) {
    const component = state.resource(`${env}/daprComponents/${c.name}`)!.body;
    const clientId = (component.properties.metadata as Array<{ name: string; value?: string }>).find(
      (m) => m.name === 'azureClientId',
    )?.value;
    const granted = (outcome.actions as Array<Record<string, string>>)
      .filter(
        (a) =>
          (a.kind === 'role-assigned' || a.kind === 'cosmos-role-assigned') &&
          c.targets.some((t: { resourceId?: string }) => t.resourceId && isWithinScope(a.accountId ?? a.scope!, t.resourceId)),
      )
      .map((a) => {
        // The narrowest scope the component names (a container, a database/container), when below the target.
        const below = a.scope!.split('/').length > 9 ? ` at ${a.scope!.split('/').slice(9).join('/')}` : '';
        return a.kind === 'cosmos-role-assigned'
          ? `${a.role} (Cosmos DB SQL role assignment)${below}`
          : `${builtinRoleById(a.roleDefinitionId!.split('/').pop()!)?.roleName ?? a.role}${below}`;
      });
    rows.push([
      `${c.name}\n${c.componentType}`,
      c.targets.map((t: { resourceId?: string }) => t.resourceId?.split('/').slice(-2).join('/') ?? '-').join('\n'),
      granted.join('\n') || '-',
      clientId ? `azureClientId ${clientId.slice(0, 8)}…` : '-',
    ]);
  }
  out(`${formatTable(['component', 'target', 'granted', 'component metadata'], rows)}\n`);
  out(
    `Cosmos DB account cosmos-orders holds ${cosmosAssignments(state, cosmos).length} SQL role assignment(s); Azure RBAC holds none for it.\n`,
  );
}
