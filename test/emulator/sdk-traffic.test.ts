import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { isRestError } from '@azure/core-rest-pipeline';
import { ManagedIdentityCredential } from '@azure/identity';
import { createArmClients } from '../../src/azure/clients';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();
const roleId = (guid: string) => `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

function grantAppOwner(): void {
  env.emulator.state.grant({ principalId: env.emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
}

describe('real SDK clients against the emulator', () => {
  it('creates a role assignment, re-creates it idempotently and lists it (arm-authorization)', async () => {
    grantAppOwner();
    const { authorization } = env.clients();
    const target = env.emulator.state.directory.create({ displayName: 'workload' });
    const rg = env.emulator.state.addResourceGroup(SUB_A, 'rg-roles');
    const name = randomUUID();
    const params = { roleDefinitionId: roleId(ROLE.reader), principalId: target.id, principalType: 'ServicePrincipal' as const };
    const first = await authorization.roleAssignments.create(rg, name, params);
    assert.equal(first.principalId, target.id);
    assert.equal(first.scope, rg);
    const again = await authorization.roleAssignments.create(rg, name, params);
    assert.equal(again.id, first.id);
    const listed = [];
    for await (const a of authorization.roleAssignments.listForScope(rg, { filter: `principalId eq '${target.id}'` })) listed.push(a);
    assert.deepEqual(
      listed.map((a) => a.name),
      [name],
    );
    // The same grant under another name is a conflict the product treats as done.
    await assert.rejects(authorization.roleAssignments.create(rg, randomUUID(), params), (e: unknown) => {
      assert.ok(isRestError(e));
      assert.equal(e.statusCode, 409);
      assert.equal(e.code, 'RoleAssignmentExists');
      return true;
    });
  });

  it('ManagedIdentityCredential gets a token from the emulator, and the caller is recorded', async () => {
    grantAppOwner();
    Object.assign(process.env, env.emulator.managedIdentityEnvironment);
    const credential = new ManagedIdentityCredential();
    const { resources } = createArmClients(env.connection(credential), SUB_A);
    const rg = env.emulator.state.addResourceGroup(SUB_A, 'rg-mi');
    const before = env.emulator.lastSeq;
    const got = await resources.resourceGroups.get('rg-mi');
    assert.equal(got.id, rg);
    const calls = env.emulator.requestsSince(before);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.principalId, env.emulator.appPrincipal.id);
    assert.ok(env.emulator.tokensIssued.some((t) => t.principalId === env.emulator.appPrincipal.id));
  });

  it('PATCHing identity on a web app returns a principalId (arm-resources, by id)', async () => {
    grantAppOwner();
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-web', type: SEED_TYPES.webApp, name: 'web-1' });
    const { resources } = env.clients();
    const updated = await resources.resources.beginUpdateByIdAndWait(
      id,
      '2024-04-01',
      { identity: { type: 'SystemAssigned' } },
      { updateIntervalInMs: 10 },
    );
    assert.match(updated.identity?.principalId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(updated.identity?.tenantId, env.emulator.state.tenantId);
    assert.ok(env.emulator.state.directory.get(updated.identity!.principalId!), 'the principal exists in the directory');
  });

  it('PATCHing SystemAssigned alone drops existing user-assigned identities, as Azure does', async () => {
    grantAppOwner();
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ua', name: 'id-shared' });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-1',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } },
    });
    const { resources } = env.clients();
    const updated = await resources.resources.beginUpdateByIdAndWait(
      id,
      '2024-07-01',
      { identity: { type: 'SystemAssigned' } },
      { updateIntervalInMs: 10 },
    );
    assert.equal(updated.identity?.type, 'SystemAssigned');
    assert.equal(updated.identity?.userAssignedIdentities, undefined);
    const kept = await resources.resources.beginUpdateByIdAndWait(
      id,
      '2024-07-01',
      { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ua.id]: {} } } },
      { updateIntervalInMs: 10 },
    );
    assert.equal(kept.identity?.type, 'SystemAssigned, UserAssigned');
    assert.equal(kept.identity?.principalId, updated.identity?.principalId, 'the system principal survives');
    assert.deepEqual(Object.keys(kept.identity?.userAssignedIdentities ?? {}), [ua.id]);
  });

  it('a container app PATCH completes through the SDK poller (202 + Location)', async () => {
    grantAppOwner();
    env.emulator.lro.durationMs = 50;
    try {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-aca',
        type: SEED_TYPES.containerApp,
        name: 'ca-1',
      });
      const { resources } = env.clients();
      const before = env.emulator.lastSeq;
      // ContainerApps_Update's body is a ContainerApp, whose location is required (ContainerApps.json).
      const poller = await resources.resources.beginUpdateById(
        id,
        '2024-03-01',
        { location: 'westeurope', identity: { type: 'SystemAssigned' } },
        { updateIntervalInMs: 20 },
      );
      const result = await poller.pollUntilDone();
      assert.match(result.identity?.principalId ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(result.properties && (result.properties as { provisioningState?: string }).provisioningState, 'Succeeded');
      const calls = env.emulator.requestsSince(before);
      assert.equal(calls[0]!.method, 'PATCH');
      assert.equal(calls[0]!.status, 202);
      assert.ok(
        calls.slice(1).every((c) => c.method === 'GET' && /containerappOperationResults/i.test(c.path)),
        'polls go to the Location URL',
      );
      assert.equal(calls.at(-1)!.status, 200);
    } finally {
      env.emulator.lro.durationMs = 0;
    }
  });

  it('a principal without rights gets 403 AuthorizationFailed', async () => {
    const stranger = env.emulator.state.directory.create({ displayName: 'stranger' });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-403',
      type: SEED_TYPES.webApp,
      name: 'web-403',
    });
    const { resources } = env.clients(stranger);
    await assert.rejects(resources.resources.getById(id, '2024-04-01'), (e: unknown) => {
      assert.ok(isRestError(e));
      assert.equal(e.statusCode, 403);
      assert.equal(e.code, 'AuthorizationFailed');
      return true;
    });
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });

  it('a 429 with Retry-After is retried by the SDK', async () => {
    grantAppOwner();
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-429',
      type: SEED_TYPES.webApp,
      name: 'web-429',
    });
    const fault = env.emulator.faults.add({
      path: 'web-429',
      times: 1,
      action: { kind: 'error', status: 429, code: 'TooManyRequests', retryAfterSeconds: 1 },
    });
    const started = Date.now();
    const got = await env.clients().resources.resources.getById(id, '2024-04-01');
    assert.equal(got.id, id);
    assert.equal(fault.hits, 1);
    assert.ok(Date.now() - started >= 900, 'the SDK waited for Retry-After');
    fault.remove();
  });
});
