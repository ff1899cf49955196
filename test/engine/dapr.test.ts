import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesText } from '../../src/config';
import { daprFindings, decideClientIds, planDaprGrants } from '../../src/engine/dapr';
import { readIdentity } from '../../src/engine/identity-state';
import { planRemediation } from '../../src/engine/plan';
import type { DaprComponent } from '../../src/engine/ports';
import type { Plan, ResourceState } from '../../src/engine/types';
import { budget, FakeAzure, SUB } from './fake-ports';

const rules = parseRulesText(
  `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles: {}
rules:
  - name: dapr-app
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
      azureClientId: true
`,
  'dapr-unit-test.yaml',
);
const options = rules.rules[0]!.dapr!;
const ENV = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.App/managedEnvironments/env`;
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.KeyVault/vaults/kv1`;
const UA = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app`;

function containerApp(identity?: unknown): ResourceState {
  const id = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.App/containerApps/app`;
  return {
    id,
    type: 'Microsoft.App/containerApps',
    subscriptionId: SUB,
    resourceGroup: 'rg-a',
    name: 'app',
    location: 'westeurope',
    tags: {},
    identity: readIdentity(identity),
    rawBody: {},
    blockers: [],
    dapr: { appId: 'app', environmentId: ENV },
  };
}

const secrets = (vaultName: string, extra: Partial<DaprComponent> = {}): DaprComponent => ({
  id: `${ENV}/daprComponents/secrets`,
  name: 'secrets',
  componentType: 'secretstores.azure.keyvault',
  metadata: [{ name: 'vaultName', value: vaultName }],
  scopes: [],
  secrets: [],
  rawBody: {},
  ...extra,
});

function planned(resource: ResourceState): Plan {
  const result = planRemediation(resource, rules);
  assert.equal(result.kind, 'plan', JSON.stringify(result));
  return (result as Extract<typeof result, { kind: 'plan' }>).plan;
}

describe("Dapr planning: the grants an app's components need", () => {
  it('a component whose target is found within bounds adds its role to a new plan; the plan given is unchanged', async () => {
    const azure = new FakeAzure();
    azure.components.push(secrets('kv1'));
    azure.daprTargets.push({ id: VAULT, type: 'Microsoft.KeyVault/vaults', name: 'kv1', tags: {} });
    const app = containerApp();
    const plan = planned(app);
    const before = structuredClone(plan);
    const result = await planDaprGrants(plan, app, options, azure.ports(), budget());
    assert.deepEqual(plan, before);
    assert.deepEqual(
      result!.plan.roleAssignments.map((r) => [r.profile, r.roleDisplayName, r.scope]),
      [['dapr:secrets', 'Key Vault Secrets User', VAULT]],
    );
    assert.equal(result!.plan.dapr?.components[0]?.status, 'grants');
    assert.deepEqual(azure.calls, [`listComponents ${ENV}`, 'lookupDapr']);
  });

  it('a target not found is refused with its reason, and grants nothing', async () => {
    const azure = new FakeAzure();
    azure.components.push(secrets('missing-vault'));
    const app = containerApp();
    const result = await planDaprGrants(planned(app), app, options, azure.ports(), budget());
    assert.equal(result!.plan.roleAssignments.length, 0);
    assert.equal(result!.plan.dapr?.components[0]?.status, 'refused');
    assert.deepEqual(
      daprFindings(result!.plan).map((f) => f.detail.split(':')[0]),
      ['DaprTargetNotFound'],
    );
  });

  it('azureClientId: written wherever the grantee is user-assigned (one or several identities); the decisions are a value beside the plan', async () => {
    const azure = new FakeAzure();
    azure.components.push(secrets('kv1'));
    azure.daprTargets.push({ id: VAULT, type: 'Microsoft.KeyVault/vaults', name: 'kv1', tags: {} });
    const app = containerApp({
      type: 'SystemAssigned, UserAssigned',
      principalId: 'sys',
      userAssignedIdentities: { [UA]: { principalId: 'ua-pid', clientId: 'ua-client' } },
    });
    const result = (await planDaprGrants(planned(app), app, options, azure.ports(), budget()))!;
    const grantee = { role: 'resource' as const, objectId: 'ua-pid', clientId: 'ua-client', identityId: UA };
    const key = `${ENV}/daprComponents/secrets`.toLowerCase();
    const several = decideClientIds(result.plan, result.context, grantee, app.identity);
    assert.equal(several.get(key)?.action, 'write');
    // Container Apps picks no user-assigned identity by itself (Learn: container-apps/dapr-components).
    const onlyUserAssigned = readIdentity({
      type: 'UserAssigned',
      userAssignedIdentities: { [UA]: { principalId: 'ua-pid', clientId: 'ua-client' } },
    });
    assert.equal(decideClientIds(result.plan, result.context, grantee, onlyUserAssigned).get(key)?.action, 'write');
    const onlySystem = readIdentity({ type: 'SystemAssigned', principalId: 'sys' });
    assert.equal(decideClientIds(result.plan, result.context, grantee, onlySystem).get(key)?.action, 'none');
    assert.equal((result.plan.dapr!.components[0] as { clientId?: unknown }).clientId, undefined);
  });

  describe('issue 23: app ids, environments, and every app a component can serve', () => {
    const OTHER_RG_APP = `/subscriptions/${SUB}/resourceGroups/rg-b/providers/Microsoft.App/containerApps/other`;
    const SAME_RG_APP = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.App/containerApps/sibling`;
    const onlyUa = readIdentity({
      type: 'UserAssigned',
      userAssignedIdentities: { [UA]: { principalId: 'ua-pid', clientId: 'ua-client' } },
    });
    const grantee = { role: 'resource' as const, objectId: 'ua-pid', clientId: 'ua-client', identityId: UA };

    async function decided(component: DaprComponent, apps: FakeAzure['daprApps']) {
      const azure = new FakeAzure();
      azure.components.push(component);
      azure.daprTargets.push({ id: VAULT, type: 'Microsoft.KeyVault/vaults', name: 'kv1', tags: {} });
      azure.daprApps.push(...apps);
      const app = containerApp(onlyUa);
      const result = (await planDaprGrants(planned(app), app, options, azure.ports(), budget()))!;
      return { result, decision: decideClientIds(result.plan, result.context, grantee, onlyUa).get(component.id.toLowerCase()) };
    }

    it('a scoped app id no app of the environment was found with is unknown, so azureClientId is not written', async () => {
      const { decision } = await decided(secrets('kv1', { scopes: ['app', 'not-yet-created'] }), []);
      assert.equal(decision?.action, 'conflict');
      assert.match(decision!.detail, /'not-yet-created' \(no app of the environment was found with it\)/);
    });

    it('an unscoped component counts every app of the environment, with or without Dapr', async () => {
      const { decision } = await decided(secrets('kv1'), [{ id: SAME_RG_APP, daprEnabled: false, userAssignedClientIds: [] }]);
      assert.equal(decision?.action, 'conflict');
      assert.match(decision!.detail, /app \S+sibling \(Dapr disabled\)/);
    });

    it("an unscoped component is refused in an environment hosting another resource group's app", async () => {
      const { result } = await decided(secrets('kv1'), [
        { id: OTHER_RG_APP, appId: 'other', daprEnabled: true, userAssignedClientIds: [] },
      ]);
      assert.equal(result.plan.roleAssignments.length, 0);
      assert.equal(result.plan.dapr?.components[0]?.status, 'refused');
      assert.match(daprFindings(result.plan)[0]!.detail, /^DaprUnscopedComponentShared/);
    });

    it("an environment outside the app's resource group and the rule is refused before any call", async () => {
      const azure = new FakeAzure();
      const app: ResourceState = {
        ...containerApp(),
        dapr: { appId: 'app', environmentId: ENV.replace('/rg-a/', '/rg-platform/') },
      };
      const result = (await planDaprGrants(planned(app), app, options, azure.ports(), budget()))!;
      assert.deepEqual(azure.calls, []);
      assert.deepEqual(
        daprFindings(result.plan).map((f) => [f.reason, f.detail.split(':')[0]]),
        [['dapr-app-refused', 'DaprEnvironmentNotHonoured']],
      );
    });
  });
});
