/**
 * Resource Graph for clean-ups: which resources hold a user-assigned identity, how many role
 * assignments a subscription has, and an index that lags behind ARM (ResourceGraphService.lagMs), so a
 * clean-up that trusts it right after a delete or a re-create meets a stale answer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SdkGraphQueryPort } from '../../src/sweep/resource-graph';
import { compileKql, ROLE, SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const WEB_API = '2024-04-01';

async function graph(query: string, subscriptions = [SUB_A]): Promise<Array<Record<string, unknown>>> {
  const port = new SdkGraphQueryPort(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal)));
  return (await port.query({ query, subscriptions })).rows;
}

/** The query a clean-up asks before deleting an identity: who else holds it (keys compared case-insensitively). */
function holdersQuery(identityId: string): string {
  return [
    'resources',
    '| where isnotnull(identity.userAssignedIdentities)',
    '| mv-expand holder = bag_keys(identity.userAssignedIdentities)',
    `| where tolower(tostring(holder)) == '${identityId.toLowerCase()}'`,
    '| project id',
    '| order by id asc',
  ].join('\n');
}

function webApp(rg: string, name: string, identity: Record<string, unknown>): string {
  return seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: rg, type: SEED_TYPES.webApp, name, identity });
}

function grantAppOwner(): void {
  env.emulator.state.grant({ principalId: env.emulator.appPrincipal.id, roleDefinitionGuid: ROLE.owner, scope: `/subscriptions/${SUB_A}` });
}

afterEach(() => {
  env.emulator.resourceGraph.lagMs = 0;
});

describe('Resource Graph: who holds a user-assigned identity', () => {
  it('mv-expand over bag_keys(identity.userAssignedIdentities) finds every holder, whatever the key casing', async () => {
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ua', name: 'id-shared' });
    const other = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-ua', name: 'id-shared-2' });
    const a = webApp('rg-ua', 'web-a', { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } });
    const vm = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-ua',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-b',
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ua.id]: {}, [other.id]: {} } },
    });
    webApp('rg-ua', 'web-c', { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } });
    webApp('rg-ua', 'web-d', { type: 'SystemAssigned' });
    // An RP that stores the key in lower case (as some do) is still found.
    const lowered = webApp('rg-ua', 'web-e', { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } });
    const body = env.emulator.state.resource(lowered)!.body;
    body.identity.userAssignedIdentities = { [ua.id.toLowerCase()]: body.identity.userAssignedIdentities[ua.id] };

    const rows = await graph(holdersQuery(ua.id));
    assert.deepEqual(
      rows.map((r) => r.id),
      [a, vm, lowered].sort(),
    );
    // The exact-key form a product may also use.
    const exact = await graph(`resources | where isnotnull(identity.userAssignedIdentities['${ua.id}']) | project id | order by id asc`);
    assert.deepEqual(
      exact.map((r) => r.id),
      [a, vm].sort(),
      'bag keys are case-sensitive, as in Kusto',
    );
  });

  it('mv-expand is bounded as Resource Graph bounds it; only count() aggregates are run', () => {
    assert.equal(compileKql('resources | mv-expand x = bag_keys(identity.userAssignedIdentities) limit 400').stages[0]!.kind, 'mv-expand');
    assert.throws(() => compileKql('resources | mv-expand x = bag_keys(identity) limit 401'), /limit above 400/);
    assert.throws(() => compileKql('resources | mv-expand kind=array x = tags'), /mv-expand parameter/);
    assert.throws(() => compileKql('resources | summarize sum(1) by type'), /only count\(\)/);
  });
});

describe('Resource Graph: role assignments per subscription', () => {
  it('summarize count() by subscriptionId over authorizationresources', async () => {
    const before = await graph('authorizationresources | summarize n = count() by subscriptionId', [SUB_A, SUB_B]);
    const countOf = (rows: Array<Record<string, unknown>>, sub: string) => Number(rows.find((r) => r.subscriptionId === sub)?.n ?? 0);
    for (let i = 0; i < 3; i++)
      env.emulator.state.grant({ principalId: randomUUID(), roleDefinitionGuid: ROLE.reader, scope: `/subscriptions/${SUB_B}` });
    const after = await graph('authorizationresources | summarize n = count() by subscriptionId', [SUB_A, SUB_B]);
    assert.equal(countOf(after, SUB_B), countOf(before, SUB_B) + 3);
    assert.equal(countOf(after, SUB_A), countOf(before, SUB_A));
    const total = await graph("authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | summarize count()", [
      SUB_B,
    ]);
    assert.deepEqual(total, [{ count_: countOf(after, SUB_B) }]);
  });
});

describe('Resource Graph lags behind ARM (lagMs)', () => {
  it('right after a delete it still names the deleted holder; after the lag it does not', async () => {
    grantAppOwner();
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-lag', name: 'id-lag' });
    const holder = webApp('rg-lag', 'web-lag', { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } });
    env.emulator.resourceGraph.lagMs = 600;

    assert.equal((await rawArm(env.emulator, 'DELETE', `${holder}?api-version=${WEB_API}`)).status, 200);
    assert.equal((await rawArm(env.emulator, 'GET', `${holder}?api-version=${WEB_API}`)).status, 404, 'ARM: gone');
    assert.deepEqual(
      (await graph(holdersQuery(ua.id))).map((r) => r.id),
      [holder],
      'Resource Graph: still there',
    );
    await sleep(700);
    assert.deepEqual(await graph(holdersQuery(ua.id)), []);
  });

  it('right after a re-create under the same name it shows the old principal and its grants', async () => {
    grantAppOwner();
    const id = webApp('rg-recreate', 'web-again', { type: 'SystemAssigned' });
    const oldPrincipal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    const oldGrant = env.emulator.state.grant({
      principalId: oldPrincipal,
      roleDefinitionGuid: ROLE.reader,
      scope: id.replace(/\/providers\/.*$/, ''),
    });
    env.emulator.resourceGraph.lagMs = 600;

    const { resources, authorization } = env.clients();
    await resources.resources.beginDeleteByIdAndWait(id, WEB_API, { updateIntervalInMs: 10 });
    await authorization.roleAssignments.deleteById(oldGrant.id);
    const again = webApp('rg-recreate', 'web-again', { type: 'SystemAssigned' });
    const newPrincipal = env.emulator.state.resource(again)!.body.identity.principalId as string;
    assert.notEqual(newPrincipal, oldPrincipal);

    const principalQuery = `resources | where id =~ '${id}' | project principalId = tostring(identity.principalId)`;
    const grantsQuery = `authorizationresources | where properties.principalId =~ '${oldPrincipal}' | project id`;
    assert.deepEqual(await graph(principalQuery), [{ principalId: oldPrincipal }], 'stale: the deleted incarnation');
    assert.deepEqual(
      (await graph(grantsQuery)).map((r) => r.id),
      [oldGrant.id],
      'stale: the removed grant',
    );
    await sleep(700);
    assert.deepEqual(await graph(principalQuery), [{ principalId: newPrincipal }]);
    assert.deepEqual(await graph(grantsQuery), []);
  });

  it('without a lag (the default) Resource Graph answers with what ARM holds now', async () => {
    grantAppOwner();
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-nolag', name: 'id-nolag' });
    const holder = webApp('rg-nolag', 'web-nolag', { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } });
    await rawArm(env.emulator, 'DELETE', `${holder}?api-version=${WEB_API}`);
    assert.deepEqual(await graph(holdersQuery(ua.id)), []);
  });
});
