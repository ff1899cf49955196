import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { SUB_A, takeSpecViolations, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ lro: { durationMs: 50, retryAfterSeconds: 0 } });
const WEB_API = '2024-04-01';
const APP_API = '2024-03-01';
const RG = 'rg-children';
const sites = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.Web/sites`;
const slotBody = (site: string) => ({
  location: 'westeurope',
  properties: { serverFarmId: `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.Web/serverfarms/plan-${site}` },
});

describe('emulator: deployment slots (a child of the site)', () => {
  before(() => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
    env.emulator.state.addResourceGroup(SUB_A, RG);
  });

  it('refuses every verb on a slot of a site that does not exist: 404 ParentResourceNotFound, as ARM does', async () => {
    const slot = `${sites}/no-such-site/slots/staging?api-version=${WEB_API}`;
    for (const [method, body] of [
      ['PUT', slotBody('no-such-site')],
      ['PATCH', { identity: { type: 'SystemAssigned' } }],
      ['GET', undefined],
    ] as const) {
      const r = await rawArm(env.emulator, method, slot, { body });
      assert.equal(r.status, 404, method);
      assert.deepEqual(r.json.error, {
        code: 'ParentResourceNotFound',
        message: "Can not perform requested operation on nested resource. Parent resource 'no-such-site' not found.",
      });
    }
    assert.equal(env.emulator.state.resource(`${sites}/no-such-site/slots/staging`), undefined, 'no orphan was stored');
  });

  it('asks for permission before it says whether the parent exists: a caller without it gets 403, not a hint', async () => {
    const stranger = env.emulator.state.directory.create({ displayName: 'no-role', type: 'ServicePrincipal' });
    const slot = `${sites}/no-such-site/slots/staging?api-version=${WEB_API}`;
    for (const method of ['GET', 'PATCH'] as const) {
      const body = method === 'PATCH' ? { identity: { type: 'SystemAssigned' } } : undefined;
      const r = await rawArm(env.emulator, method, slot, { body, principal: stranger });
      assert.equal(r.status, 403, method);
      assert.equal(r.json.error.code, 'AuthorizationFailed', method);
    }
  });

  it("a slot's identity is its own: PATCH (WebApps_UpdateSlot) answers at once, the site keeps none", async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.deploymentSlot,
      parent: 'web-shop',
      name: 'staging',
    });
    const site = `${sites}/web-shop`;
    assert.equal(id, `${site}/slots/staging`);
    const r = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, { body: { identity: { type: 'SystemAssigned' } } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['azure-asyncoperation'], undefined);
    assert.equal(r.json.identity.type, 'SystemAssigned');
    // GetWebAppSlot.json: the RP names a slot `site/slot`.
    assert.equal(r.json.name, 'web-shop/staging');
    assert.equal(r.json.type, 'Microsoft.Web/sites/slots');
    assert.equal(env.emulator.state.resource(site)!.body.identity, undefined, "the site's identity is untouched");
    // The RP's spelling only: Container Apps' "SystemAssigned,UserAssigned" is not the Web enum.
    const wrong = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${WEB_API}`, {
      body: { identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: {} } },
    });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await takeSpecViolations(env.emulator), []);
  });

  it('a slot created by PUT under an existing site is listed by its provider and goes when the site is deleted', async () => {
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.webApp, name: 'web-blog' });
    const slot = `${sites}/web-blog/slots/staging`;
    const created = await rawArm(env.emulator, 'PUT', `${slot}?api-version=${WEB_API}`, { body: slotBody('web-blog') });
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.json));
    assert.equal(created.json.identity, undefined, 'a new slot has no identity: a pipeline must give it one');
    const provider = await rawArm(env.emulator, 'GET', `/subscriptions/${SUB_A}/providers/Microsoft.Web?api-version=2021-04-01`);
    assert.ok(provider.json.resourceTypes.some((t: any) => t.resourceType === 'sites/slots' && t.apiVersions.includes(WEB_API)));
    const deleted = await rawArm(env.emulator, 'DELETE', `${sites}/web-blog?api-version=${WEB_API}`);
    assert.equal(deleted.status, 200);
    assert.equal(env.emulator.state.resource(slot), undefined, 'the slot went with its site');
  });
});

describe('emulator: Container Apps jobs', () => {
  before(() => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
  });

  it('Jobs_Update is a merge patch answered 202 + Location (no Azure-AsyncOperation), polled until it returns the job', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerAppJob,
      name: 'nightly-export',
    });
    const before = structuredClone(env.emulator.state.resource(id)!.body.properties);
    const r = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${APP_API}`, { body: { identity: { type: 'SystemAssigned' } } });
    assert.equal(r.status, 202);
    assert.equal(r.headers['azure-asyncoperation'], undefined);
    const location = String(r.headers.location);
    assert.match(
      location,
      /\/providers\/Microsoft\.App\/locations\/westeurope\/containerappsjobOperationResults\/[^/?]+\?api-version=2024-03-01$/,
    );
    let poll = await rawArm(env.emulator, 'GET', location.slice(env.emulator.url.length));
    while (poll.status === 202) {
      await new Promise((done) => setTimeout(done, 20));
      poll = await rawArm(env.emulator, 'GET', location.slice(env.emulator.url.length));
    }
    assert.equal(poll.status, 200);
    assert.equal(poll.json.id, id);
    assert.equal(poll.json.identity.type, 'SystemAssigned');
    assert.ok(poll.json.identity.principalId);
    assert.deepEqual(
      { ...poll.json.properties, provisioningState: 'x' },
      { ...before, provisioningState: 'x' },
      'a merge patch of identity keeps the template',
    );
  });

  it('spells the combined kind as common-types v3 does ("SystemAssigned,UserAssigned") and refuses the spaced form', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerAppJob,
      name: 'spelling',
    });
    const spaced = await rawArm(env.emulator, 'PATCH', `${id}?api-version=${APP_API}`, {
      body: { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: {} } },
    });
    assert.equal(spaced.status, 400);
  });

  it('refuses a PUT without the managed environment', async () => {
    const r = await rawArm(
      env.emulator,
      'PUT',
      `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/jobs/no-env?api-version=${APP_API}`,
      {
        body: { location: 'westeurope', properties: { configuration: { triggerType: 'Manual', replicaTimeout: 60 } } },
      },
    );
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /environmentId/);
  });
});
