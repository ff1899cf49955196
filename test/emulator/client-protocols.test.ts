/**
 * What the Azure CLI needs from the emulator (found by test/conformance with a real `az`), checked
 * here without the CLI so `npm test` guards it on machines without `az` too.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });

async function legacyToken(headers: Record<string, string>, form: string): Promise<{ status: number; json: any }> {
  const res = await fetch(env.emulator.legacyManagedIdentityEnvironment.MSI_ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
  });
  return { status: res.status, json: await res.json() };
}

function getWithToken(path: string, token: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${env.emulator.url}${path}`,
      { ca: env.emulator.ca, agent: false, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('emulator: the managed-identity and ARM protocols the Azure CLI uses', () => {
  it('MSI_ENDPOINT (Cloud Shell protocol): POST form resource=..., Metadata: true, answers with a token', async () => {
    const r = await legacyToken({ metadata: 'true' }, 'resource=https%3A%2F%2Fmanagement.core.windows.net%2F');
    assert.equal(r.status, 200);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.resource, 'https://management.core.windows.net/');
    assert.match(r.json.expires_on, /^\d+$/);
    assert.equal(r.json.client_id, env.emulator.appPrincipal.clientId);
  });

  it('MSI_ENDPOINT refuses a request without Metadata: true, a GET, and a wrong path', async () => {
    assert.equal((await legacyToken({}, 'resource=https%3A%2F%2Fmanagement.azure.com%2F')).status, 400);
    const get = await fetch(env.emulator.legacyManagedIdentityEnvironment.MSI_ENDPOINT, { headers: { metadata: 'true' } });
    assert.equal(get.status, 405);
    const guessed = env.emulator.legacyManagedIdentityEnvironment.MSI_ENDPOINT.replace(/legacy\/[^/]+\//, 'legacy/guess/');
    const wrong = await fetch(guessed, { method: 'POST', headers: { metadata: 'true' }, body: 'resource=x' });
    assert.equal(wrong.status, 404);
  });

  it('ARM accepts a token for https://management.core.windows.net/ and refuses another audience', async () => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.reader,
      scope: `/subscriptions/${SUB_A}`,
    });
    const core = await legacyToken({ metadata: 'true' }, 'resource=https%3A%2F%2Fmanagement.core.windows.net%2F');
    const ok = await getWithToken(`/subscriptions/${SUB_A}?api-version=2022-12-01`, core.json.access_token);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const graph = await legacyToken({ metadata: 'true' }, 'resource=https%3A%2F%2Fgraph.microsoft.com%2F');
    const refused = await getWithToken(`/subscriptions/${SUB_A}?api-version=2022-12-01`, graph.json.access_token);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error.code, 'InvalidAuthenticationToken');
  });

  it('GET /subscriptions lists the subscriptions the caller holds a role in (api-version 2019-11-01 as the CLI sends it)', async () => {
    const outsider = env.emulator.state.directory.create({ displayName: 'outsider' });
    const rgOnly = env.emulator.state.directory.create({ displayName: 'rg reader' });
    env.emulator.state.addResourceGroup(SUB_B, 'rg-b');
    env.emulator.state.grant({
      principalId: rgOnly.id,
      roleDefinitionGuid: ROLE.reader,
      scope: `/subscriptions/${SUB_B}/resourceGroups/rg-b`,
    });
    const none = await rawArm(env.emulator, 'GET', '/subscriptions?api-version=2019-11-01', { principal: outsider });
    assert.equal(none.status, 200);
    assert.deepEqual(none.json.value, []);
    const some = await rawArm(env.emulator, 'GET', '/subscriptions?api-version=2022-12-01', { principal: rgOnly });
    assert.deepEqual(
      some.json.value.map((s: any) => s.subscriptionId),
      [SUB_B],
    );
    assert.equal(some.json.value[0].tenantId, env.emulator.state.tenantId);
  });

  it('GET /subscriptions/{s}/resourcegroups and /providers/{namespace} answer as ARM does', async () => {
    env.emulator.state.addResourceGroup(SUB_A, 'rg-listed');
    const groups = await rawArm(env.emulator, 'GET', `/subscriptions/${SUB_A}/resourcegroups?api-version=2021-04-01`);
    assert.equal(groups.status, 200);
    assert.ok(groups.json.value.some((g: any) => g.name === 'rg-listed'));
    const provider = await rawArm(env.emulator, 'GET', `/subscriptions/${SUB_A}/providers/microsoft.compute?api-version=2021-04-01`);
    assert.equal(provider.status, 200);
    assert.equal(provider.json.namespace, 'Microsoft.Compute');
    const vms = provider.json.resourceTypes.find((t: any) => t.resourceType === 'virtualMachines');
    assert.deepEqual(vms.apiVersions, [...vms.apiVersions].sort().reverse(), 'newest first');
    const unknown = await rawArm(env.emulator, 'GET', `/subscriptions/${SUB_A}/providers/Microsoft.Nope?api-version=2021-04-01`);
    assert.equal(unknown.status, 404);
  });
});
