import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROLE } from '../../tools/arm-emulator';
import { seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { SPEC_DIRECTORY } from '../../tools/arm-emulator/spec-validation';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

/**
 * The emulator's federated identity credentials against the stored spec and its official examples
 * (every exchange here is also oav-checked by the fixture), and the restrictions Learn lists
 * (entra/workload-id/workload-identity-federation-considerations), modelled stricter where unsure.
 */
const env = useEmulator();
const API = '2024-11-30';
const EXAMPLES = join(SPEC_DIRECTORY, 'specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples');
const example = (name: string) => JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8'));
const body = (subject: string, issuer = 'https://oidc.prod-aks.azure.com/TenantGUID/IssuerGUID') => ({
  properties: { issuer, subject, audiences: ['api://AzureADTokenExchange'] },
});

describe('emulator: federated identity credentials', () => {
  let identity: string;
  before(() => {
    env.emulator.state.grant({
      principalId: env.emulator.appPrincipal.id,
      roleDefinitionGuid: ROLE.owner,
      scope: `/subscriptions/${SUB_A}`,
    });
    identity = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-fic', name: 'id-fic' })
      .id as string;
    env.emulator.state.ficWriteWindowMs = 0;
  });
  const fic = (name: string) => `${identity}/federatedIdentityCredentials/${name}?api-version=${API}`;

  it('creates (201), updates (200), gets and lists as FederatedIdentityCredentialCreate/Get/List show, with systemData', async () => {
    const create = example('FederatedIdentityCredentialCreate.json');
    const created = await rawArm(env.emulator, 'PUT', fic('ficResourceName'), { body: create.parameters.parameters });
    assert.equal(created.status, 201);
    assert.deepEqual(
      Object.keys(created.json)
        .filter((k) => k !== 'systemData')
        .sort(),
      Object.keys(create.responses['201'].body).sort(),
    );
    assert.deepEqual(created.json.properties, create.responses['201'].body.properties);
    assert.equal(created.json.type, create.responses['201'].body.type);
    assert.equal(created.json.systemData.createdBy, env.emulator.appPrincipal.clientId);
    assert.equal((await rawArm(env.emulator, 'PUT', fic('ficResourceName'), { body: create.parameters.parameters })).status, 200);
    assert.deepEqual(
      (await rawArm(env.emulator, 'GET', fic('ficResourceName'))).json.properties,
      example('FederatedIdentityCredentialGet.json').responses['200'].body.properties,
    );
    const list = await rawArm(env.emulator, 'GET', `${identity}/federatedIdentityCredentials?api-version=${API}`);
    assert.deepEqual(
      list.json.value.map((f: { name: string }) => f.name),
      ['ficResourceName'],
    );
    assert.equal((await rawArm(env.emulator, 'DELETE', fic('ficResourceName'))).status, 200);
    assert.equal((await rawArm(env.emulator, 'DELETE', fic('ficResourceName'))).status, 204);
  });

  // The last column: the stored spec itself refuses the request (oav reports it), so the emulator agrees with it.
  const refusals: Array<[string, string, unknown, RegExp, boolean]> = [
    ['a name shorter than 3', 'ab', body('s1'), /name 'ab' is invalid/, true],
    ['a name starting with -', '-abc', body('s1'), /is invalid/, true],
    [
      'two audiences',
      'two-aud',
      { properties: { ...body('s2').properties, audiences: ['api://AzureADTokenExchange', 'x'] } },
      /exactly one audience/,
      false,
    ],
    ['empty properties', 'empty', { properties: {} }, /empty properties/, true],
    ['a wildcard subject', 'wild', body('system:serviceaccount:*:*'), /Wildcard/, false],
    ['an http issuer', 'plain', body('s3', 'http://issuer.example/'), /https/, false],
  ];
  for (const [label, name, input, message, specRefuses] of refusals) {
    it(`refuses ${label} (400)`, async () => {
      const r = await rawArm(env.emulator, 'PUT', fic(name), { body: input });
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, message);
      const violations = (await env.emulator.specViolations()).splice(0);
      assert.equal(violations.length > 0 && violations.every((v) => v.side === 'request'), specRefuses, JSON.stringify(violations));
    });
  }

  it('refuses a second credential with the same issuer and subject, a 21st credential, and a missing parent identity', async () => {
    assert.equal((await rawArm(env.emulator, 'PUT', fic('first'), { body: body('dup') })).status, 201);
    const dup = await rawArm(env.emulator, 'PUT', fic('second'), { body: body('dup') });
    assert.equal(dup.status, 400);
    assert.match(dup.json.error.message, /Issuer and subject combination already exists/);
    for (let i = 1; i < 20; i++) assert.equal((await rawArm(env.emulator, 'PUT', fic(`many-${i}`), { body: body(`s-${i}`) })).status, 201);
    const over = await rawArm(env.emulator, 'PUT', fic('many-20'), { body: body('s-20') });
    assert.equal(over.status, 400);
    assert.match(over.json.error.message, /maximum of 20/);
    assert.equal((await rawArm(env.emulator, 'PUT', fic('many-1'), { body: body('s-1b') })).status, 200, 'an update is not an addition');
    const orphan = await rawArm(
      env.emulator,
      'PUT',
      `/subscriptions/${SUB_A}/resourceGroups/rg-fic/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope/federatedIdentityCredentials/x12?api-version=${API}`,
      { body: body('o') },
    );
    assert.equal(orphan.status, 404);
  });

  it('answers 409 Conflict to a credential write on an identity while another is still being written', async () => {
    const other = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-fic', name: 'id-busy' })
      .id as string;
    env.emulator.state.ficWriteWindowMs = 60_000;
    try {
      const path = (n: string) => `${other}/federatedIdentityCredentials/${n}?api-version=${API}`;
      const [a, b] = await Promise.all([
        rawArm(env.emulator, 'PUT', path('one'), { body: body('c1') }),
        rawArm(env.emulator, 'PUT', path('two'), { body: body('c2') }),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [201, 409]);
      assert.match((a.status === 409 ? a : b).json.error.message, /Concurrent write request/);
    } finally {
      env.emulator.state.ficWriteWindowMs = 0;
    }
  });
});
