import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator();
const API = '2023-05-01';
const SECRET = 's3cr3t-value';

const WITH_SECRETS = {
  containers: [
    {
      name: 'web',
      properties: {
        image: 'nginx',
        resources: { requests: { cpu: 1, memoryInGB: 1.5 } },
        environmentVariables: [
          { name: 'MODE', value: 'prod' },
          { name: 'DB_PASSWORD', secureValue: SECRET },
        ],
      },
    },
  ],
  imageRegistryCredentials: [{ server: 'contoso.azurecr.io', username: 'puller', password: SECRET }],
  volumes: [
    { name: 'share', azureFile: { shareName: 'data', storageAccountName: 'contosodata', storageAccountKey: SECRET } },
    { name: 'certs', secret: { 'tls.key': 'c2VjcmV0' } },
  ],
  diagnostics: { logAnalytics: { workspaceId: '0f0f0f0f-0000-4000-8000-000000000001', workspaceKey: SECRET } },
};

describe('emulator: Container Instances write-only fields, restarts and group state', () => {
  before(() => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
  });

  it('GET leaves out every write-only field; the store keeps them', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci',
      type: SEED_TYPES.containerGroup,
      name: 'get-view',
      properties: WITH_SECRETS,
    });
    const r = await rawArm(env.emulator, 'GET', `${id}?api-version=${API}`);
    assert.equal(r.status, 200);
    assert.doesNotMatch(JSON.stringify(r.json), new RegExp(SECRET));
    const p = r.json.properties;
    assert.deepEqual(p.containers[0].properties.environmentVariables, [{ name: 'MODE', value: 'prod' }, { name: 'DB_PASSWORD' }]);
    assert.deepEqual(p.imageRegistryCredentials, [{ server: 'contoso.azurecr.io', username: 'puller' }]);
    assert.deepEqual(p.volumes[0].azureFile, { shareName: 'data', storageAccountName: 'contosodata' });
    assert.deepEqual(p.volumes[1].secret, {});
    assert.deepEqual(p.diagnostics.logAnalytics, { workspaceId: '0f0f0f0f-0000-4000-8000-000000000001' });
    assert.equal(p.instanceView.state, 'Running');
    assert.equal(env.emulator.state.resource(id)!.body.properties.containers[0].properties.environmentVariables[1].secureValue, SECRET);
  });

  it('a PUT of the GET body (identity added) is refused 400 InvalidContainerGroupUpdate; nothing changes, nothing restarts', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci',
      type: SEED_TYPES.containerGroup,
      name: 'get-modify-put',
      properties: WITH_SECRETS,
    });
    const stored = structuredClone(env.emulator.state.resource(id)!.body);
    const got = (await rawArm(env.emulator, 'GET', `${id}?api-version=${API}`)).json;
    const r = await rawArm(env.emulator, 'PUT', `${id}?api-version=${API}`, { body: { ...got, identity: { type: 'SystemAssigned' } } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidContainerGroupUpdate');
    for (const field of [
      'DB_PASSWORD',
      'imageRegistryCredentials[contoso.azurecr.io].password',
      'storageAccountKey',
      'volumes[certs].secret',
    ]) {
      assert.ok(r.json.error.message.includes(field), `${field} named in: ${r.json.error.message}`);
    }
    assert.doesNotMatch(r.json.error.message, new RegExp(SECRET));
    assert.deepEqual(env.emulator.state.resource(id)!.body, stored);
    assert.equal(env.emulator.state.restartCount(id), 0);
  });

  it('a PUT that sends the secrets again is accepted, restarts the group once and answers without them', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci',
      type: SEED_TYPES.containerGroup,
      name: 'full-put',
      properties: WITH_SECRETS,
    });
    const body = {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { ...structuredClone(WITH_SECRETS), osType: 'Linux' },
    };
    const r = await rawArm(env.emulator, 'PUT', `${id}?api-version=${API}`, { body });
    assert.equal(r.status, 200);
    assert.doesNotMatch(JSON.stringify(r.json), new RegExp(SECRET));
    assert.equal(env.emulator.state.restartCount(id), 1);
    assert.equal(env.emulator.state.resource(id)!.body.identity.type, 'SystemAssigned');
    // A tags PATCH is not a redeploy.
    assert.equal((await rawArm(env.emulator, 'PATCH', `${id}?api-version=${API}`, { body: { tags: { a: 'b' } } })).status, 200);
    assert.equal(env.emulator.state.restartCount(id), 1);
  });

  it('a PUT of a stopped group redeploys it: it runs again and counts a restart', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci',
      type: SEED_TYPES.containerGroup,
      name: 'stopped',
      properties: { instanceView: { state: 'Stopped', events: [] } },
    });
    const got = (await rawArm(env.emulator, 'GET', `${id}?api-version=${API}`)).json;
    assert.equal(got.properties.instanceView.state, 'Stopped');
    assert.equal((await rawArm(env.emulator, 'PUT', `${id}?api-version=${API}`, { body: got })).status, 200);
    assert.equal(env.emulator.state.restartCount(id), 1);
    assert.equal(env.emulator.state.resource(id)!.body.properties.instanceView.state, 'Running');
  });

  it('Resource Graph rows leave the secrets out too', async () => {
    seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci-graph',
      type: SEED_TYPES.containerGroup,
      name: 'graph',
      properties: WITH_SECRETS,
    });
    const r = await rawArm(env.emulator, 'POST', '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01', {
      body: { subscriptions: [SUB_A], query: "resources | where resourceGroup == 'rg-aci-graph'" },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.data.length, 1);
    assert.doesNotMatch(JSON.stringify(r.json), new RegExp(SECRET));
  });
});

describe('emulator: identity type strings are checked against each RP spec enum, exactly', () => {
  const cases = [
    { type: SEED_TYPES.webApp, api: '2024-04-01', accepted: 'SystemAssigned, UserAssigned', refused: 'SystemAssigned,UserAssigned' },
    {
      type: SEED_TYPES.virtualMachine,
      api: '2024-07-01',
      accepted: 'SystemAssigned, UserAssigned',
      refused: 'SystemAssigned,UserAssigned',
    },
    { type: SEED_TYPES.scaleSet, api: '2024-07-01', accepted: 'SystemAssigned, UserAssigned', refused: 'SystemAssigned,UserAssigned' },
    { type: SEED_TYPES.containerApp, api: '2024-03-01', accepted: 'SystemAssigned,UserAssigned', refused: 'SystemAssigned, UserAssigned' },
  ];
  for (const c of cases) {
    it(`${c.type}: '${c.refused}' and 'systemassigned' are 400 InvalidIdentityType; '${c.accepted}' is stored as sent`, async () => {
      env.emulator.state.grant({
        principalId: env.emulator.appPrincipal.id,
        roleDefinitionGuid: ROLE.owner,
        scope: `/subscriptions/${SUB_A}`,
      });
      const ua = seedUserAssignedIdentity(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-spelling',
        name: `id-${c.type.split('/')[1]}`,
      });
      const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-spelling', type: c.type, name: 'spelled' });
      const patch = (type: string) =>
        rawArm(env.emulator, 'PATCH', `${id}?api-version=${c.api}`, {
          body: { identity: { type, userAssignedIdentities: { [ua.id]: {} } } },
        });
      for (const wrong of [c.refused, 'systemassigned, userassigned']) {
        const r = await patch(wrong);
        assert.equal(r.status, 400, wrong);
        assert.equal(r.json.error.code, 'InvalidIdentityType');
        assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
      }
      const ok = await patch(c.accepted);
      assert.ok(ok.status < 300, JSON.stringify(ok.json));
      assert.equal(env.emulator.state.resource(id)!.body.identity.type, c.accepted);
    });
  }

  it('Container Instances spell it with the space: the PUT with the no-space spelling is refused', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-spelling',
      type: SEED_TYPES.containerGroup,
      name: 'aci-spelled',
    });
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-spelling', name: 'id-aci' });
    const got = (await rawArm(env.emulator, 'GET', `${id}?api-version=${API}`)).json;
    const put = (type: string) =>
      rawArm(env.emulator, 'PUT', `${id}?api-version=${API}`, {
        body: { ...got, identity: { type, userAssignedIdentities: { [ua.id]: {} } } },
      });
    const refused = await put('SystemAssigned,UserAssigned');
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.code, 'InvalidIdentityType');
    assert.equal(env.emulator.state.restartCount(id), 0);
    assert.equal((await put('SystemAssigned, UserAssigned')).status, 200);
    assert.equal(env.emulator.state.resource(id)!.body.identity.type, 'SystemAssigned, UserAssigned');
  });
});
