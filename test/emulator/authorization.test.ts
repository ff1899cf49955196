import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { GenericResource } from '@azure/arm-resources';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { rejectsWith } from '../support/assertions';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();
const roleId = (guid: string) => `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const WEB_API = '2024-04-01';

/** The delegation condition of azure-facts.md, allowing only `allowed` roles for service principals. */
function delegationCondition(allowed: string[]): string {
  const set = allowed.join(', ');
  return [
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR",
    ` (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${set}}`,
    "  AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))",
    'AND',
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR",
    ` (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${set}}))`,
  ].join('\n');
}

function newPrincipal(displayName: string, type: 'ServicePrincipal' | 'User' = 'ServicePrincipal') {
  return env.emulator.state.directory.create({ displayName, type });
}

describe('RBAC: built-in roles', () => {
  it('Contributor can PATCH a web app identity but cannot create a role assignment', async () => {
    const caller = newPrincipal('contributor');
    const rg = env.emulator.state.addResourceGroup(SUB_A, 'rg-contrib');
    env.emulator.state.grant({ principalId: caller.id, roleDefinitionGuid: ROLE.contributor, scope: rg });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-contrib',
      type: SEED_TYPES.webApp,
      name: 'web-contrib',
    });
    const { resources, authorization } = env.clients(caller);

    const updated = await resources.resources.beginUpdateByIdAndWait(
      id,
      WEB_API,
      { identity: { type: 'SystemAssigned' } },
      { updateIntervalInMs: 10 },
    );
    const principalId = updated.identity?.principalId;
    assert.match(principalId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(env.emulator.state.resource(id)!.body.identity.principalId, principalId);

    const before = env.emulator.state.roleAssignments.size;
    await rejectsWith(
      authorization.roleAssignments.create(rg, randomUUID(), {
        roleDefinitionId: roleId(ROLE.reader),
        principalId: principalId!,
        principalType: 'ServicePrincipal',
      }),
      403,
      'AuthorizationFailed',
    );
    assert.equal(env.emulator.state.roleAssignments.size, before, 'nothing was written');
  });

  it('User Access Administrator can create a role assignment (but cannot touch the web app)', async () => {
    const caller = newPrincipal('uaa');
    const rg = env.emulator.state.addResourceGroup(SUB_A, 'rg-uaa');
    env.emulator.state.grant({ principalId: caller.id, roleDefinitionGuid: ROLE.userAccessAdministrator, scope: rg });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-uaa',
      type: SEED_TYPES.webApp,
      name: 'web-uaa',
    });
    const target = newPrincipal('workload');
    const { resources, authorization } = env.clients(caller);

    const name = randomUUID();
    const created = await authorization.roleAssignments.create(rg, name, {
      roleDefinitionId: roleId(ROLE.contributor),
      principalId: target.id,
      principalType: 'ServicePrincipal',
    });
    assert.equal(created.name, name);
    assert.equal(created.principalId, target.id);
    assert.equal(created.roleDefinitionId, roleId(ROLE.contributor));
    assert.ok(env.emulator.state.assignmentsFor(target.id).some((a) => a.name === name));

    // UAA reads everything but writes only Microsoft.Authorization.
    await rejectsWith(
      resources.resources.beginUpdateByIdAndWait(id, WEB_API, { identity: { type: 'SystemAssigned' } }, { updateIntervalInMs: 10 }),
      403,
      'AuthorizationFailed',
    );
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });
});

describe('RBAC: Role Based Access Control Administrator with the delegation condition', () => {
  const ALLOWED = [ROLE.reader, '4633458b-17de-408a-b874-0445c86b69e6' /* Key Vault Secrets User */];

  function setUp(rgName: string) {
    const caller = newPrincipal(`rbac-admin-${rgName}`);
    const rg = env.emulator.state.addResourceGroup(SUB_A, rgName);
    env.emulator.state.grant({
      principalId: caller.id,
      roleDefinitionGuid: ROLE.rbacAdministrator,
      scope: rg,
      condition: delegationCondition(ALLOWED),
    });
    return { caller, rg, authorization: env.clients(caller).authorization };
  }

  it('can assign an allowed role to a ServicePrincipal', async () => {
    const { rg, authorization } = setUp('rg-abac-ok');
    const target = newPrincipal('sp');
    const created = await authorization.roleAssignments.create(rg, randomUUID(), {
      roleDefinitionId: roleId(ROLE.reader),
      principalId: target.id,
      principalType: 'ServicePrincipal',
    });
    assert.equal(created.principalId, target.id);
    assert.equal(created.principalType, 'ServicePrincipal');
    // The role GUID may be written in upper case: GuidEquals is case-insensitive.
    const kv = await authorization.roleAssignments.create(rg, randomUUID(), {
      roleDefinitionId: roleId(ALLOWED[1]!.toUpperCase()),
      principalId: target.id,
      principalType: 'ServicePrincipal',
    });
    assert.equal(kv.principalId, target.id);
  });

  it('is denied (403) assigning a role outside the set, e.g. Owner', async () => {
    const { rg, authorization } = setUp('rg-abac-owner');
    const target = newPrincipal('sp');
    await rejectsWith(
      authorization.roleAssignments.create(rg, randomUUID(), {
        roleDefinitionId: roleId(ROLE.owner),
        principalId: target.id,
        principalType: 'ServicePrincipal',
      }),
      403,
      'AuthorizationFailed',
    );
    assert.deepEqual(env.emulator.state.assignmentsFor(target.id), []);
  });

  it("is denied assigning an allowed role with principalType 'User'", async () => {
    const { rg, authorization } = setUp('rg-abac-user');
    const user = newPrincipal('someone', 'User');
    await rejectsWith(
      authorization.roleAssignments.create(rg, randomUUID(), {
        roleDefinitionId: roleId(ROLE.reader),
        principalId: user.id,
        principalType: 'User',
      }),
      403,
      'AuthorizationFailed',
    );
    assert.deepEqual(env.emulator.state.assignmentsFor(user.id), []);
  });

  it('can delete assignments of the allowed roles only', async () => {
    const { rg, authorization } = setUp('rg-abac-delete');
    const target = newPrincipal('sp');
    const reader = env.emulator.state.grant({ principalId: target.id, roleDefinitionGuid: ROLE.reader, scope: rg });
    const owner = env.emulator.state.grant({ principalId: target.id, roleDefinitionGuid: ROLE.owner, scope: rg });

    const deleted = await authorization.roleAssignments.delete(rg, reader.name);
    assert.equal(deleted.name, reader.name);
    await rejectsWith(authorization.roleAssignments.delete(rg, owner.name), 403, 'AuthorizationFailed');
    assert.deepEqual(
      env.emulator.state.assignmentsFor(target.id).map((a) => a.name),
      [owner.name],
      'the Owner assignment survives, the Reader one is gone',
    );
    // Reads are not constrained by the condition.
    const listed = [];
    for await (const a of authorization.roleAssignments.listForScope(rg, { filter: `principalId eq '${target.id}'` })) listed.push(a.name);
    assert.deepEqual(listed, [owner.name]);
  });
});

describe('RBAC: linked authorization for user-assigned identities', () => {
  it('attaching without assign/action is 403 LinkedAuthorizationFailed and writes nothing; Managed Identity Operator fixes it', async () => {
    const state = env.emulator.state;
    const caller = newPrincipal('site-writer');
    const role = state.addCustomRole({ roleName: 'Site writer', actions: ['Microsoft.Web/sites/read', 'Microsoft.Web/sites/write'] });
    const rg = state.addResourceGroup(SUB_A, 'rg-linked');
    state.grant({ principalId: caller.id, roleDefinitionGuid: role.guid, scope: rg });
    const ua = seedUserAssignedIdentity(state, { subscriptionId: SUB_A, resourceGroup: 'rg-ua-shared', name: 'id-linked' });
    const id = seedResource(state, { subscriptionId: SUB_A, resourceGroup: 'rg-linked', type: SEED_TYPES.webApp, name: 'web-linked' });
    const { resources } = env.clients(caller);
    const uaId = ua.id as string;
    const patch: GenericResource = { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uaId]: {} } } };

    const snapshot = structuredClone(state.resource(id)!.body);
    const principalsBefore = state.directory.size;
    await rejectsWith(
      resources.resources.beginUpdateByIdAndWait(id, WEB_API, patch, { updateIntervalInMs: 10 }),
      403,
      'LinkedAuthorizationFailed',
    );
    assert.deepEqual(state.resource(id)!.body, snapshot, 'the resource is unchanged');
    assert.equal(state.directory.size, principalsBefore, 'no system-assigned principal was created');

    // Plain site writes still work for this caller: only the link is refused.
    // (SitePatchResource has no tags in WebApps.json, so the plain write changes `kind`.)
    const plain = await resources.resources.beginUpdateByIdAndWait(id, WEB_API, { kind: 'app,linux,team-a' }, { updateIntervalInMs: 10 });
    assert.equal(plain.kind, 'app,linux,team-a');

    state.grant({ principalId: caller.id, roleDefinitionGuid: ROLE.managedIdentityOperator, scope: uaId });
    const updated = await resources.resources.beginUpdateByIdAndWait(id, WEB_API, patch, { updateIntervalInMs: 10 });
    assert.equal(updated.identity?.type, 'SystemAssigned, UserAssigned');
    assert.deepEqual(Object.keys(updated.identity?.userAssignedIdentities ?? {}), [uaId]);
    assert.equal(updated.identity?.userAssignedIdentities?.[uaId]?.principalId, ua.properties.principalId);
  });
});

describe('RBAC: scope', () => {
  it('an assignment at resource-group scope does not reach another resource group', async () => {
    const caller = newPrincipal('rg-scoped');
    const rgA = env.emulator.state.addResourceGroup(SUB_A, 'rg-scope');
    // A name that starts with the first one: scope matching must be by path segment, not prefix.
    env.emulator.state.addResourceGroup(SUB_A, 'rg-scope-other');
    env.emulator.state.grant({ principalId: caller.id, roleDefinitionGuid: ROLE.contributor, scope: rgA });
    const inside = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-scope',
      type: SEED_TYPES.webApp,
      name: 'web-in',
    });
    const outside = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-scope-other',
      type: SEED_TYPES.webApp,
      name: 'web-out',
    });
    const { resources } = env.clients(caller);

    assert.equal((await resources.resources.getById(inside, WEB_API)).id, inside);
    assert.equal((await resources.resourceGroups.get('rg-scope')).id, rgA);
    await rejectsWith(resources.resources.getById(outside, WEB_API), 403, 'AuthorizationFailed');
    await rejectsWith(
      resources.resources.beginUpdateByIdAndWait(outside, WEB_API, { identity: { type: 'SystemAssigned' } }, { updateIntervalInMs: 10 }),
      403,
      'AuthorizationFailed',
    );
    await rejectsWith(resources.resourceGroups.get('rg-scope-other'), 403, 'AuthorizationFailed');
    assert.equal(env.emulator.state.resource(outside)!.body.identity, undefined);
  });
});
