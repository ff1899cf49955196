/**
 * The emulator enforces exactly the grants the deployment derives from the rules, and the real app
 * (trigger table, composition root, real SDK clients under its own managed identity) can do everything
 * the rules ask and nothing else.
 *
 * - SUB_A: config/rules.example.yaml (its subscription rewritten to SUB_A) and exactly what main.bicep
 *   creates there: the engine's custom role with `deriveAppPermissions(...).actions`, and the role
 *   assigner custom role (`roleAssignerActions`: roleAssignments/write and /delete) with
 *   `buildRoleAssignmentCondition(...)`. No grant carries `*\/read`, so an action missing from
 *   `deriveAppPermissions` shows up as a 403.
 * - SUB_B: a rules file governing two types only, delegated through a role that can also delete role
 *   assignments (write and delete, as Role Based Access Control Administrator has, without its
 *   `*\/read`) under the same condition: the condition on its own must keep deletes as narrow as writes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { deriveAppPermissions } from '../../scripts/infra/permissions';
import type { RulesConfig } from '../../src/config';
import { ROLE } from '../../tools/arm-emulator';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource, seedScopeResource, seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived as grantDerivedFor } from '../support/derived-grants';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import {
  EXAMPLE_CUSTOM_ROLE_GUID,
  EXAMPLE_CUSTOM_ROLE_NAME,
  EXAMPLE_ROLE_GUIDS,
  EXAMPLE_RULES_PATH,
  EXAMPLE_SUBSCRIPTION,
} from './example-rules.fixture';

const CUSTOM_ROLE_NAME = EXAMPLE_CUSTOM_ROLE_NAME;
const CUSTOM_ROLE_GUID = EXAMPLE_CUSTOM_ROLE_GUID;
const GUID = {
  ...EXAMPLE_ROLE_GUIDS,
  reader: ROLE.reader,
};

/** The shipped example, governing the emulator's subscription instead of the placeholder. */
const EXAMPLE_RULES = readFileSync(EXAMPLE_RULES_PATH, 'utf8').replaceAll(EXAMPLE_SUBSCRIPTION, SUB_A);

/** Two governed types only: web apps (system-assigned) and container apps (user-assigned). */
const NARROW_RULES = `
version: 1
scope:
  subscriptions: ["${SUB_B}"]
  resourceTypes: [Microsoft.Web/sites, Microsoft.App/containerApps]
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
  self-monitoring:
    roles:
      - role: Monitoring Metrics Publisher
        scope: "{resourceId}"
rules:
  - name: containers
    match:
      types: [Microsoft.App/containerApps]
    identity:
      kind: UserAssigned
      userAssigned:
        name: "id-{resourceName}"
    profiles: [rg-reader]
  - name: web
    identity:
      kind: SystemAssigned
    profiles: [rg-reader, self-monitoring]
`;

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });

function assignmentsOf(principalId: string) {
  return env.emulator.state
    .assignmentsFor(principalId)
    .map((a) => ({ scope: a.scope.toLowerCase(), role: a.roleDefinitionGuid, type: a.principalType }))
    .sort((a, b) => `${a.scope} ${a.role}`.localeCompare(`${b.scope} ${b.role}`));
}

function sorted<T extends { scope: string; role: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => `${a.scope} ${a.role}`.localeCompare(`${b.scope} ${b.role}`));
}

/** Status and ARM error code of a call, for asserting denials. */
async function outcomeOf(call: () => Promise<unknown>): Promise<{ status: number; code?: string }> {
  try {
    await call();
    return { status: 200 };
  } catch (e) {
    const err = e as { statusCode?: number; code?: string };
    return { status: err.statusCode ?? -1, code: err.code };
  }
}

function grantDerived(rules: RulesConfig, subscriptionId: string, options: Parameters<typeof grantDerivedFor>[3] = {}) {
  return grantDerivedFor(env, rules, subscriptionId, options);
}

describe('least privilege: the example rules with exactly the grants main.bicep creates', () => {
  let app: ReturnType<typeof buildApp>;
  let permissions: ReturnType<typeof grantDerived>;
  const vault = `/subscriptions/${SUB_A}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-orders`;
  const monitoringRg = `/subscriptions/${SUB_A}/resourceGroups/rg-monitoring`;

  before(() => {
    const rules = rulesFor(EXAMPLE_RULES);
    const state = env.emulator.state;
    // The example's custom role exists in the subscription (the engine looks it up by name).
    state.addCustomRole({
      roleName: CUSTOM_ROLE_NAME,
      guid: CUSTOM_ROLE_GUID,
      actions: ['Microsoft.AppConfiguration/configurationStores/read'],
    });
    permissions = grantDerived(rules, SUB_A, { customRoleGuids: new Map([[CUSTOM_ROLE_NAME, CUSTOM_ROLE_GUID]]) });
    assert.equal(env.emulator.state.assignmentsFor(env.emulator.appPrincipal.id).length >= 2, true);
    seedScopeResource(state, vault);
    state.addResourceGroup(SUB_A, 'rg-monitoring');
    app = buildApp(env, rules);
  });

  it('derives the grants being enforced (no Owner, no wildcard, deletes only under the condition or a scoped role)', () => {
    assert.deepEqual(
      permissions.assignableRoleGuids,
      [CUSTOM_ROLE_GUID, GUID.keyVaultSecretsUser, GUID.storageBlobDataReader, GUID.monitoringMetricsPublisher].sort(),
    );
    assert.ok(
      permissions.actions.every((a) => !a.includes('*')),
      permissions.actions.join(', '),
    );
    assert.deepEqual(permissions.roleAssignerActions, [
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleAssignments/delete',
    ]);
    assert.ok(!permissions.actions.some((a) => /delete/i.test(a)), 'the subscription-wide engine role deletes nothing');
    // The example creates identities beside container apps and container groups in any resource group,
    // so deleting them is the one scoped grant it widens to the subscription (the documented worst case).
    assert.deepEqual(
      permissions.scopedGrants.map((g) => [g.key, g.scopes]),
      [['identity-deletes', [`/subscriptions/${SUB_A}`]]],
    );
  });

  it('web-apps rule: a tagged prod web app gets a system-assigned identity, its profile and the tag-selected profiles', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'app-orders',
      type: SEED_TYPES.webApp,
      name: 'web-orders',
      tags: { env: 'prod', 'kv-id': vault, 'identity-autopilot-profiles': 'rg-blob-reader,app-config-reader' },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'SystemAssigned');
    const rg = `/subscriptions/${SUB_A}/resourcegroups/app-orders`;
    assert.deepEqual(
      assignmentsOf(identity.principalId),
      sorted([
        { scope: vault.toLowerCase(), role: GUID.keyVaultSecretsUser, type: 'ServicePrincipal' },
        { scope: rg, role: GUID.storageBlobDataReader, type: 'ServicePrincipal' },
        { scope: rg, role: CUSTOM_ROLE_GUID, type: 'ServicePrincipal' },
      ]),
    );
  });

  it('keeps an existing user-assigned identity on a web app (sent back in the PATCH: assign/action)', async () => {
    const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'app-orders', name: 'id-existing' });
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'app-orders',
      type: SEED_TYPES.webApp,
      name: 'web-with-ua',
      tags: { env: 'prod', 'kv-id': vault },
      identity: { type: 'UserAssigned', userAssignedIdentities: { [ua.id]: {} } },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'SystemAssigned, UserAssigned');
    assert.deepEqual(Object.keys(identity.userAssignedIdentities), [ua.id]);
  });

  it('container-apps rule: creates the user-assigned identity, attaches it and grants its roles', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-containers',
      type: SEED_TYPES.containerApp,
      name: 'orders',
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const uaId = `/subscriptions/${SUB_A}/resourceGroups/rg-containers/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ca-orders`;
    const ua = env.emulator.state.resource(uaId);
    assert.ok(ua, 'the identity was created');
    const identity = env.emulator.state.resource(id)!.body.identity;
    assert.equal(identity.type, 'UserAssigned');
    assert.deepEqual(Object.keys(identity.userAssignedIdentities), [uaId]);
    assert.deepEqual(assignmentsOf(ua.body.properties.principalId), [
      { scope: monitoringRg.toLowerCase(), role: GUID.monitoringMetricsPublisher, type: 'ServicePrincipal' },
    ]);
    assert.deepEqual(d.outcome!.actions.map((a: { kind: string }) => a.kind).sort(), [
      'identity-written',
      'role-assigned',
      'user-assigned-identity-created',
    ]);
  });

  it('a report-mode rule changes nothing', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-misc',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-report',
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'planned', JSON.stringify(d.outcome));
    assert.deepEqual(env.emulator.requestsSince(before, { writesOnly: true }), []);
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
  });

  it('no request the app made was refused', () => {
    const refused = env.emulator.requests.filter((r) => r.principalId === env.emulator.appPrincipal.id && r.status === 403);
    assert.deepEqual(
      refused.map((r) => `${r.method} ${r.path}`),
      [],
    );
  });

  describe('and nothing else, with the app’s own credential (around the engine’s own refusals)', () => {
    const clients = () => env.clients(env.emulator.appPrincipal, SUB_A);
    const workload = () => env.emulator.state.directory.create({ displayName: `workload-${randomUUID().slice(0, 8)}` });
    const rgScope = () => env.emulator.state.addResourceGroup(SUB_A, 'app-denials');

    it('assigning Owner is denied by the condition (403)', async () => {
      const scope = rgScope();
      const r = await outcomeOf(() =>
        clients().authorization.roleAssignments.create(scope, randomUUID(), {
          roleDefinitionId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.owner}`,
          principalId: workload().id,
          principalType: 'ServicePrincipal',
        }),
      );
      assert.deepEqual(r, { status: 403, code: 'AuthorizationFailed' });
    });

    it('assigning a role the rules do not use (Contributor, RBAC Administrator itself) is denied', async () => {
      const scope = rgScope();
      for (const role of [ROLE.contributor, ROLE.userAccessAdministrator, ROLE.rbacAdministrator, GUID.reader]) {
        const r = await outcomeOf(() =>
          clients().authorization.roleAssignments.create(scope, randomUUID(), {
            roleDefinitionId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
            principalId: workload().id,
            principalType: 'ServicePrincipal',
          }),
        );
        assert.deepEqual(r, { status: 403, code: 'AuthorizationFailed' }, role);
      }
    });

    it('an allowed role goes to a service principal, but not to a User (nor to a Group)', async () => {
      const scope = rgScope();
      const roleDefinitionId = `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/${GUID.storageBlobDataReader}`;
      const ok = await outcomeOf(() =>
        clients().authorization.roleAssignments.create(scope, randomUUID(), {
          roleDefinitionId,
          principalId: workload().id,
          principalType: 'ServicePrincipal',
        }),
      );
      assert.equal(ok.status, 200, 'the positive control: the same call for a service principal succeeds');
      for (const type of ['User', 'Group'] as const) {
        const person = env.emulator.state.directory.create({ type, displayName: `a ${type}` });
        const r = await outcomeOf(() =>
          clients().authorization.roleAssignments.create(scope, randomUUID(), {
            roleDefinitionId,
            principalId: person.id,
            principalType: type,
          }),
        );
        assert.deepEqual(r, { status: 403, code: 'AuthorizationFailed' }, type);
      }
    });

    it('deletes a role assignment only under the condition: one it made, never its own delegation, one outside the rules or a person’s', async () => {
      const made = [...env.emulator.state.roleAssignments.values()].find((a) => a.createdBy === env.emulator.appPrincipal.id)!;
      assert.ok(made, 'an assignment the app created earlier in this suite');
      assert.deepEqual(await outcomeOf(() => clients().authorization.roleAssignments.deleteById(made.id)), { status: 200 });
      const person = env.emulator.state.directory.create({ type: 'User', displayName: 'a person' });
      const persons = env.emulator.state.grant({
        principalId: person.id,
        roleDefinitionGuid: GUID.storageBlobDataReader,
        scope: `/subscriptions/${SUB_A}`,
        principalType: 'User',
      });
      assert.deepEqual(await outcomeOf(() => clients().authorization.roleAssignments.deleteById(persons.id)), {
        status: 403,
        code: 'AuthorizationFailed',
      });
      const own = env.emulator.state
        .assignmentsFor(env.emulator.appPrincipal.id)
        .find((a) => a.roleDefinitionGuid === permissions.delegationRole)!;
      const r = await outcomeOf(() => clients().authorization.roleAssignments.deleteById(own.id));
      assert.deepEqual(r, { status: 403, code: 'AuthorizationFailed' });
      const someoneElse = env.emulator.state.grant({
        principalId: workload().id,
        roleDefinitionGuid: ROLE.contributor,
        scope: `/subscriptions/${SUB_A}`,
      });
      const r2 = await outcomeOf(() => clients().authorization.roleAssignments.deleteById(someoneElse.id));
      assert.deepEqual(r2, { status: 403, code: 'AuthorizationFailed' });
    });

    it('cannot delete governed resources or resource groups, nor create resource groups; identities only where rules make them', async () => {
      const web = seedResource(env.emulator.state, {
        subscriptionId: SUB_A,
        resourceGroup: 'app-denials',
        type: SEED_TYPES.webApp,
        name: 'web-keep',
      });
      const ua = seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'app-denials', name: 'id-keep' });
      const c = clients();
      assert.deepEqual(await outcomeOf(() => c.resources.resources.beginDeleteByIdAndWait(web, '2024-04-01')), {
        status: 403,
        code: 'AuthorizationFailed',
      });
      // The example's identities go beside their apps in any group: the identity remover holds the
      // subscription (test/infra/scoped-grants.test.ts shows literal groups keeping it to them).
      assert.ok(permissions.scopedGrants.some((g) => g.key === 'identity-deletes' && g.scopes.includes(`/subscriptions/${SUB_A}`)));
      assert.deepEqual(await outcomeOf(() => c.resources.resourceGroups.createOrUpdate('rg-new', { location: 'westeurope' })), {
        status: 403,
        code: 'AuthorizationFailed',
      });
      assert.deepEqual(await outcomeOf(() => c.resources.resourceGroups.beginDeleteAndWait('app-denials')), {
        status: 403,
        code: 'AuthorizationFailed',
      });
      assert.ok(env.emulator.state.resource(web) && env.emulator.state.resource(ua.id));
      assert.deepEqual(await outcomeOf(() => c.msi.userAssignedIdentities.delete('app-denials', 'id-keep')), { status: 200 });
    });

    it('holds nothing in a subscription the rules do not govern', async () => {
      const id = seedResource(env.emulator.state, {
        subscriptionId: SUB_B,
        resourceGroup: 'rg-elsewhere',
        type: SEED_TYPES.webApp,
        name: 'web-elsewhere',
      });
      // SUB_B's own grants are made by the next suite, which runs after this one.
      assert.ok(!env.emulator.state.assignmentsFor(env.emulator.appPrincipal.id).some((a) => a.scope.toLowerCase().includes(SUB_B)));
      const c = env.clients(env.emulator.appPrincipal, SUB_B);
      assert.deepEqual(await outcomeOf(() => c.resources.resources.getById(id, '2024-04-01')), {
        status: 403,
        code: 'AuthorizationFailed',
      });
    });
  });
});

describe('least privilege: a narrower rules file, and the engine role’s reads on their own', () => {
  let app: ReturnType<typeof buildApp>;
  let permissions: ReturnType<typeof grantDerived>;

  before(() => {
    const rules = rulesFor(NARROW_RULES);
    // Role Based Access Control Administrator minus its `*/read` and `Microsoft.Support/*`: it can delete.
    const delegation = env.emulator.state.addCustomRole({
      roleName: 'role assignment delegation only',
      actions: ['Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete'],
    });
    permissions = grantDerived(rules, SUB_B, { delegationRole: delegation.guid });
    app = buildApp(env, rules);
  });

  it('derives read/write for the two governed types only', () => {
    const typeActions = permissions.actions.filter((a) => !/^Microsoft\.(ManagedIdentity|Resources|Authorization|ResourceGraph)\//.test(a));
    assert.deepEqual(typeActions, [
      'Microsoft.Web/sites/read',
      'Microsoft.Web/sites/write',
      'Microsoft.App/containerApps/read',
      'Microsoft.App/containerApps/write',
    ]);
    assert.deepEqual(permissions.assignableRoleGuids, [GUID.reader, GUID.monitoringMetricsPublisher].sort());
  });

  it('web app: system-assigned identity and its roles, with no read beyond the engine role', async () => {
    const id = seedResource(env.emulator.state, { subscriptionId: SUB_B, resourceGroup: 'rg-web', type: SEED_TYPES.webApp, name: 'web-b' });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId;
    assert.deepEqual(
      assignmentsOf(principal),
      sorted([
        { scope: `/subscriptions/${SUB_B}/resourcegroups/rg-web`, role: GUID.reader, type: 'ServicePrincipal' },
        { scope: id.toLowerCase(), role: GUID.monitoringMetricsPublisher, type: 'ServicePrincipal' },
      ]),
    );
    const refused = env.emulator.requestsSince(before).filter((r) => r.status === 403);
    assert.deepEqual(
      refused.map((r) => `${r.method} ${r.path}`),
      [],
    );
  });

  it('container app: creates, attaches and grants the user-assigned identity, with no read beyond the engine role', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-containers',
      type: SEED_TYPES.containerApp,
      name: 'billing',
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const uaId = `/subscriptions/${SUB_B}/resourceGroups/rg-containers/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-billing`;
    const ua = env.emulator.state.resource(uaId)!;
    assert.deepEqual(Object.keys(env.emulator.state.resource(id)!.body.identity.userAssignedIdentities), [uaId]);
    assert.deepEqual(assignmentsOf(ua.body.properties.principalId), [
      { scope: `/subscriptions/${SUB_B}/resourcegroups/rg-containers`, role: GUID.reader, type: 'ServicePrincipal' },
    ]);
    assert.deepEqual(
      env.emulator.requestsSince(before).filter((r) => r.status === 403),
      [],
    );
  });

  it('an existing identity: lists what it holds (roleAssignments/read) and adds only what is missing', async () => {
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-web',
      type: SEED_TYPES.webApp,
      name: 'web-had-identity',
      identity: { type: 'SystemAssigned' },
    });
    const principal = env.emulator.state.resource(id)!.body.identity.principalId;
    env.emulator.state.grant({
      principalId: principal,
      roleDefinitionGuid: GUID.reader,
      scope: `/subscriptions/${SUB_B}/resourceGroups/rg-web`,
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const assigned = d.outcome!.actions.filter((a: { kind: string }) => a.kind === 'role-assigned');
    assert.deepEqual(
      assigned.map((a: { roleDefinitionId: string }) => a.roleDefinitionId.split('/').pop()),
      [GUID.monitoringMetricsPublisher],
      'Reader was held already',
    );
    assert.deepEqual(
      env.emulator.requestsSince(before).filter((r) => r.status === 403),
      [],
    );
    const again = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(again.outcome?.status, 'compliant', JSON.stringify(again.outcome));
  });

  it('a type outside the governed types: the app skips its event, and ARM refuses the write (403)', async () => {
    const vm = seedResource(env.emulator.state, {
      subscriptionId: SUB_B,
      resourceGroup: 'rg-web',
      type: SEED_TYPES.virtualMachine,
      name: 'vm-b',
    });
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: vm }));
    const reason = d.logs.find((l) => l.record.event === 'event.ignored')?.record.reason ?? d.outcome?.skipped?.[0]?.reason;
    assert.equal(reason, 'type-not-governed');
    assert.deepEqual(env.emulator.requestsSince(before), []);
    const c = env.clients(env.emulator.appPrincipal, SUB_B);
    const patch = await outcomeOf(() =>
      c.resources.resources.beginUpdateByIdAndWait(vm, '2024-07-01', { identity: { type: 'SystemAssigned' } }),
    );
    assert.deepEqual(patch, { status: 403, code: 'AuthorizationFailed' });
    const read = await outcomeOf(() => c.resources.resources.getById(vm, '2024-07-01'));
    assert.deepEqual(read, { status: 403, code: 'AuthorizationFailed' }, 'without RBAC Administrator’s */read, not even a read');
    assert.equal(env.emulator.state.resource(vm)!.body.identity, undefined);
  });

  it('the condition alone keeps deletes narrow: only assignments of the rules’ roles held by service principals', async () => {
    const c = env.clients(env.emulator.appPrincipal, SUB_B);
    const state = env.emulator.state;
    const scope = state.addResourceGroup(SUB_B, 'rg-delete-denials');
    const person = state.directory.create({ type: 'User', displayName: 'an administrator' });
    const workload = state.directory.create({ displayName: 'another workload' });
    // An allowed role (Reader) held by a person: not the app's to touch.
    const usersReader = state.grant({ principalId: person.id, principalType: 'User', roleDefinitionGuid: GUID.reader, scope });
    assert.deepEqual(await outcomeOf(() => c.authorization.roleAssignments.deleteById(usersReader.id)), {
      status: 403,
      code: 'AuthorizationFailed',
    });
    // A role outside the rules held by a service principal.
    const contributor = state.grant({ principalId: workload.id, roleDefinitionGuid: ROLE.contributor, scope });
    assert.deepEqual(await outcomeOf(() => c.authorization.roleAssignments.deleteById(contributor.id)), {
      status: 403,
      code: 'AuthorizationFailed',
    });
    assert.ok(state.roleAssignments.get(usersReader.id.toLowerCase()) && state.roleAssignments.get(contributor.id.toLowerCase()));
    // The positive control: the delegation can delete, and the condition lets this one through.
    const workloadsReader = state.grant({ principalId: workload.id, roleDefinitionGuid: GUID.reader, scope });
    assert.equal((await outcomeOf(() => c.authorization.roleAssignments.deleteById(workloadsReader.id))).status, 200);
    assert.equal(state.roleAssignments.get(workloadsReader.id.toLowerCase()), undefined);
  });

  it('no user-assigned identity write is derived when no enforce rule uses one', () => {
    const systemOnly = rulesFor(NARROW_RULES.replace(/ {2}- name: containers[\s\S]*?profiles: \[rg-reader\]\n/, ''));
    assert.ok(!deriveAppPermissions(systemOnly).actions.includes('Microsoft.ManagedIdentity/userAssignedIdentities/write'));
  });
});
