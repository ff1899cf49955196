import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator();
const API = 'api-version=2024-09-01';

function cluster(name: string, options: { servicePrincipalClientId?: string } = {}): string {
  env.emulator.state.grant({ principalId: env.emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
  return seedResource(env.emulator.state, {
    subscriptionId: SUB_A,
    resourceGroup: 'rg-aks',
    type: SEED_TYPES.managedCluster,
    name,
    ...options,
  });
}

describe('AKS clusters look like real ones (ManagedClustersGet, 2024-09-01)', () => {
  it('a managed-identity cluster: identity, a kubelet identity that exists in the MC_ group, clientId msi', async () => {
    const id = cluster('aks-mi');
    const r = await rawArm(env.emulator, 'GET', `${id}?${API}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.identity.type, 'SystemAssigned');
    assert.match(r.json.identity.principalId, /^[0-9a-f-]{36}$/);
    assert.equal(r.json.properties.servicePrincipalProfile.clientId, 'msi');
    assert.equal(r.json.properties.nodeResourceGroup, 'MC_rg-aks_aks-mi_westeurope');
    const kubelet = r.json.properties.identityProfile.kubeletidentity;
    assert.match(
      kubelet.resourceId,
      /\/resourceGroups\/MC_rg-aks_aks-mi_westeurope\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/aks-mi-agentpool$/,
    );
    // The kubelet identity is a real user-assigned identity whose ids match.
    const ua = await rawArm(env.emulator, 'GET', `${kubelet.resourceId}?api-version=2024-11-30`);
    assert.equal(ua.status, 200);
    assert.equal(ua.json.properties.principalId, kubelet.objectId);
    assert.equal(ua.json.properties.clientId, kubelet.clientId);
    assert.notEqual(kubelet.objectId, r.json.identity.principalId, 'kubelet and control plane are different principals');
    // The node resource group belongs to the cluster.
    const rg = await rawArm(
      env.emulator,
      'GET',
      `/subscriptions/${SUB_A}/resourceGroups/MC_rg-aks_aks-mi_westeurope?api-version=2022-09-01`,
    );
    assert.equal(rg.json.managedBy, id);
  });

  it('a service-principal cluster: no identity, no kubelet identity, the application id', async () => {
    const id = cluster('aks-sp', { servicePrincipalClientId: '5a3f1c2e-0000-4000-8000-000000000001' });
    const r = await rawArm(env.emulator, 'GET', `${id}?${API}`);
    assert.equal(r.json.identity, undefined);
    assert.equal(r.json.properties.identityProfile, undefined);
    assert.equal(r.json.properties.servicePrincipalProfile.clientId, '5a3f1c2e-0000-4000-8000-000000000001');
  });
});

describe('AKS eTags (Learn: aks/use-etags)', () => {
  it('GET carries the eTag in the body and the ETag header', async () => {
    const id = cluster('aks-etag');
    const r = await rawArm(env.emulator, 'GET', `${id}?${API}`);
    assert.match(r.json.eTag, /\S+/);
    assert.equal(r.headers.etag, `"${r.json.eTag}"`);
    assert.ok(r.json.properties.agentPoolProfiles.every((p: { eTag?: string }) => typeof p.eTag === 'string'));
  });

  it('PUT with a stale If-Match: 412 PreconditionFailed, nothing written; the current one: 200 and a new eTag', async () => {
    const id = cluster('aks-412');
    const read = (await rawArm(env.emulator, 'GET', `${id}?${API}`)).json;
    const stale = await rawArm(env.emulator, 'PUT', `${id}?${API}`, {
      body: { ...read, tags: { a: '1' } },
      headers: { 'If-Match': 'not-the-etag' },
    });
    assert.equal(stale.status, 412);
    assert.equal(stale.json.error.code, 'PreconditionFailed');
    assert.deepEqual(env.emulator.state.resource(id)!.body.tags, {});
    const fresh = await rawArm(env.emulator, 'PUT', `${id}?${API}`, {
      body: { ...read, tags: { a: '1' } },
      headers: { 'If-Match': `"${read.eTag}"` },
    });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.json));
    assert.notEqual(fresh.json.eTag, read.eTag, 'a write changes the eTag');
    assert.notEqual(
      fresh.json.properties.agentPoolProfiles[0].eTag,
      read.properties.agentPoolProfiles[0].eTag,
      "and the agent pools' eTags",
    );
    // The eTag the first PUT was built from is stale now.
    const again = await rawArm(env.emulator, 'PUT', `${id}?${API}`, { body: read, headers: { 'If-Match': read.eTag } });
    assert.equal(again.status, 412);
  });

  it('If-Match on a missing cluster and If-None-Match: * on an existing one: 412', async () => {
    const id = cluster('aks-cond');
    const body = (await rawArm(env.emulator, 'GET', `${id}?${API}`)).json;
    const missing = await rawArm(env.emulator, 'PUT', `${id.replace('aks-cond', 'aks-none')}?${API}`, {
      body,
      headers: { 'If-Match': '*' },
    });
    assert.equal(missing.status, 412);
    const exists = await rawArm(env.emulator, 'PUT', `${id}?${API}`, { body, headers: { 'If-None-Match': '*' } });
    assert.equal(exists.status, 412);
  });

  it('a tags PATCH honours If-Match too', async () => {
    const id = cluster('aks-patch');
    const r = await rawArm(env.emulator, 'PATCH', `${id}?${API}`, { body: { tags: { b: '2' } }, headers: { 'If-Match': 'stale' } });
    assert.equal(r.status, 412);
  });
});
