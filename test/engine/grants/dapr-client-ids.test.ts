import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DaprContext } from '../../../src/engine/dapr';
import { applyDaprClientIds, type DaprClientIdContext, daprClientIdGrants } from '../../../src/engine/grants/dapr-client-ids';
import type { DaprComponent } from '../../../src/engine/ports';
import type { DaprClientIdDecision, Plan } from '../../../src/engine/types';
import { budget, FakeAzure, SUB, webApp } from '../fake-ports';

const ENV = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.App/managedEnvironments/env`;
const componentId = (name: string) => `${ENV}/daprComponents/${name}`;
function component(name: string, azureClientId?: string): DaprComponent {
  return {
    id: componentId(name),
    name,
    componentType: 'state.azure.blobstorage',
    metadata: azureClientId ? [{ name: 'azureClientId', value: azureClientId }] : [],
    scopes: [],
    secrets: [],
    rawBody: {},
  };
}
const plan = (granting: string[]): Plan =>
  ({
    resourceId: webApp('app').id,
    rule: 'web',
    dapr: {
      appId: 'app',
      environmentId: ENV,
      components: granting.map((name) => ({
        name,
        id: componentId(name),
        componentType: 'state.azure.blobstorage',
        status: 'grants',
        targets: [],
        problems: [],
      })),
    },
  }) as unknown as Plan;
const write = (clientId: string): DaprClientIdDecision => ({ action: 'write', clientId, detail: `set azureClientId to ${clientId}` });

describe("grant kind: a Dapr component's azureClientId", () => {
  const grantee = { role: 'resource' as const, objectId: 'oid', clientId: 'client-1', identityId: '/ua/1' };

  it('a component whose decision is `write` is a create; one already naming the identity is no action', async () => {
    const components = [component('state'), component('queue', 'client-1')];
    const context: DaprClientIdContext = {
      plan: plan(['state', 'queue']),
      dapr: { components, apps: [], options: {} } as unknown as DaprContext,
      grantee,
      decisions: new Map([
        [componentId('state').toLowerCase(), write('client-1')],
        [componentId('queue').toLowerCase(), write('client-1')],
      ]),
    };
    const actions = daprClientIdGrants.diff(
      daprClientIdGrants.desired(context),
      await daprClientIdGrants.observe(new FakeAzure().ports(), context, budget()),
      context,
    );
    assert.deepEqual(actions, [
      {
        kind: 'create',
        grant: { componentId: componentId('state'), clientId: 'client-1' },
        owner: { principalId: 'oid', resourceId: webApp('app').id, rule: 'web', source: 'dapr:state' },
      },
    ]);
  });

  it('a component still naming the grantee that the plan no longer grants through is a remove', async () => {
    const components = [component('state'), component('retired', 'CLIENT-1'), component('other', 'client-9')];
    const context: DaprClientIdContext = {
      plan: plan(['state']),
      dapr: { components, apps: [], options: {} } as unknown as DaprContext,
      grantee,
      decisions: new Map(),
    };
    const actions = daprClientIdGrants.diff([], await daprClientIdGrants.observe(new FakeAzure().ports(), context, budget()), context);
    assert.deepEqual(actions, [
      {
        kind: 'remove',
        grant: { componentId: componentId('retired'), name: 'retired', clientId: 'CLIENT-1' },
        owner: { principalId: 'oid', resourceId: webApp('app').id, rule: 'web', source: 'dapr:retired' },
      },
    ]);
  });

  it('apply writes what the decisions ask for and reports the decision as done; the plan is not changed', async () => {
    const azure = new FakeAzure();
    const p = plan(['state']);
    const before = structuredClone(p);
    const dapr = { components: [component('state')], apps: [], options: { azureClientId: true } } as unknown as DaprContext;
    const identity = { type: 'SystemAssigned, UserAssigned', principalId: 'sys', userAssigned: [{ id: '/ua/1', clientId: 'client-1' }] };
    const actions: never[] = [];
    const { decisions, failures } = await applyDaprClientIds(p, dapr, grantee, identity, azure.ports(), budget(), actions);
    assert.deepEqual(failures, []);
    assert.deepEqual(azure.calls, [`setAzureClientId ${componentId('state')} client-1`]);
    assert.deepEqual(decisions.get(componentId('state').toLowerCase()), {
      action: 'none',
      clientId: 'client-1',
      detail: 'azureClientId set to client-1',
    });
    assert.deepEqual(p, before);
  });
});
