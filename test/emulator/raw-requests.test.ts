import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { SUB_A, takeSpecViolations, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();

/** Sends a request by hand (no SDK), so the emulator sees exactly what a broken client would send. */
async function raw(method: string, path: string, options: { body?: string; token?: string | null } = {}) {
  const { default: https } = await import('node:https');
  const token =
    options.token === undefined ? (await env.emulator.credentialFor(env.emulator.appPrincipal).getToken('x'))!.token : options.token;
  return new Promise<{ status: number; json: any; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    const req = https.request(
      `${env.emulator.url}${path}`,
      {
        method,
        ca: env.emulator.ca,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined, headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function assertArmError(r: { status: number; json: any }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json?.error?.code, code);
  assert.equal(typeof r.json.error.message, 'string');
}

describe('spec checks with oav', () => {
  it('flags a malformed role-assignment body sent raw', async () => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
    const target = env.emulator.state.directory.create({ displayName: 'target' });
    const body = JSON.stringify({
      properties: {
        roleDefinitionId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.reader}`,
        principalId: target.id,
        principalType: 'ServicePrincipal',
        favouriteColour: 'blue',
      },
    });
    const r = await raw(
      'PUT',
      `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      { body },
    );
    assert.equal(r.status, 201);
    const violations = await takeSpecViolations(env.emulator);
    assert.equal(violations.length, 1);
    assert.equal(violations[0]!.side, 'request');
    assert.equal(violations[0]!.operationId, 'RoleAssignments_Create');
    assert.equal(violations[0]!.code, 'OBJECT_ADDITIONAL_PROPERTIES');
    assert.match(violations[0]!.path, /favouriteColour/);
  });

  it('passes well-formed traffic and counts it as checked', async () => {
    const before = env.emulator.specs.checked;
    const r = await raw('GET', `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`);
    assert.equal(r.status, 200);
    assert.deepEqual(await takeSpecViolations(env.emulator), []);
    assert.equal(env.emulator.specs.checked, before + 1);
  });
});

describe('bad input gets ARM error codes, never a crash', () => {
  it('no bearer token: 401 with WWW-Authenticate', async () => {
    const r = await raw('GET', `/subscriptions/${SUB_A}?api-version=2022-12-01`, { token: null });
    assertArmError(r, 401, 'AuthenticationFailed');
    assert.match(String(r.headers['www-authenticate']), /^Bearer /);
  });

  it('a forged token: 401 InvalidAuthenticationToken', async () => {
    const r = await raw('GET', `/subscriptions/${SUB_A}?api-version=2022-12-01`, { token: 'eyJhbGciOiJub25lIn0.eyJvaWQiOiJ4In0.c2ln' });
    assertArmError(r, 401, 'InvalidAuthenticationToken');
  });

  it('a missing api-version: 400 MissingApiVersionParameter', async () => {
    assertArmError(await raw('GET', `/subscriptions/${SUB_A}`), 400, 'MissingApiVersionParameter');
  });

  it('an unknown api-version: 400 NoRegisteredProviderFound', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-bad',
      type: SEED_TYPES.webApp,
      name: 'web-bad',
    });
    assertArmError(await raw('GET', `${id}?api-version=1999-01-01`), 400, 'NoRegisteredProviderFound');
  });

  it('malformed ids', async () => {
    assertArmError(await raw('GET', `/subscriptions/not-a-guid/resourceGroups/x?api-version=2022-12-01`), 400, 'InvalidSubscriptionId');
    assertArmError(
      await raw('GET', `/subscriptions/${SUB_A}/resourceGroups/rg/providers/Microsoft.Web/sites?api-version=2024-04-01`),
      400,
      'InvalidResourceId',
    );
    assertArmError(await raw('GET', `/nonsense?api-version=2024-04-01`), 404, 'InvalidRequestUri');
    assertArmError(
      await raw('PUT', `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/not-a-guid?api-version=2022-04-01`, {
        body: '{"properties":{}}',
      }),
      400,
      'InvalidRoleAssignmentId',
    );
    await takeSpecViolations(env.emulator);
  });

  it('unknown types and namespaces', async () => {
    env.emulator.state.addResourceGroup(SUB_A, 'rg-types');
    assertArmError(
      await raw('GET', `/subscriptions/${SUB_A}/resourceGroups/rg-types/providers/Microsoft.Web/nonsense/x?api-version=2024-04-01`),
      400,
      'InvalidResourceType',
    );
    assertArmError(
      await raw('GET', `/subscriptions/${SUB_A}/resourceGroups/rg-types/providers/Contoso.Widgets/widgets/x?api-version=2024-04-01`),
      400,
      'InvalidResourceNamespace',
    );
  });

  it('bad JSON: 400 InvalidRequestContent, and nothing is written', async () => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-json',
      type: SEED_TYPES.webApp,
      name: 'web-json',
    });
    const r = await raw('PATCH', `${id}?api-version=2024-04-01`, { body: '{"identity": {"type": "SystemAssigned"' });
    assertArmError(r, 400, 'InvalidRequestContent');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });

  it('a body over 4 MB: 413', async () => {
    const r = await raw('PUT', `/subscriptions/${SUB_A}/resourceGroups/big?api-version=2022-12-01`, {
      body: `{"location":"x","pad":"${'a'.repeat(4 * 1024 * 1024)}"}`,
    });
    assertArmError(r, 413, 'RequestEntityTooLarge');
  });

  it('identity on the ACI PATCH is ignored: that RP takes tags only', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aci',
      type: SEED_TYPES.containerGroup,
      name: 'aci-1',
    });
    const r = await raw('PATCH', `${id}?api-version=2023-05-01`, {
      body: JSON.stringify({ tags: { a: 'b' }, identity: { type: 'SystemAssigned' } }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.identity, undefined);
    assert.deepEqual(r.json.tags, { a: 'b' });
  });

  it('a PUT that drops required properties is refused (GET-modify-PUT must keep the body)', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aks',
      type: SEED_TYPES.managedCluster,
      name: 'aks-1',
    });
    const before = structuredClone(env.emulator.state.resource(id)!.body);
    const r = await raw('PUT', `${id}?api-version=2024-09-01`, {
      body: JSON.stringify({ location: 'westeurope', identity: { type: 'SystemAssigned' } }),
    });
    assertArmError(r, 400, 'InvalidParameter');
    assert.deepEqual(env.emulator.state.resource(id)!.body, before);
  });
});
