import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAPR_COMPONENT_CATALOGUE } from '../../src/arm/dapr-components';
import { assertRejected, baseRules, load, OTHER_SUB, SUB } from './helpers';

function withDapr(dapr: unknown, identity: unknown = { kind: 'SystemAssigned' }): any {
  const raw = baseRules();
  raw.rules = [{ name: 'apps', identity, dapr }];
  return raw;
}

describe('rules: the dapr section', () => {
  it('without it, nothing about Dapr is set', () => {
    assert.equal(load(baseRules()).rules[0]!.dapr, undefined);
  });

  it('defaults: every catalogue type, every target type, no azureClientId write, no entity management', () => {
    const dapr = load(withDapr({ targets: { resourceGroups: ['{resourceGroup}'] } })).rules[0]!.dapr!;
    assert.deepEqual(
      dapr.componentTypes,
      DAPR_COMPONENT_CATALOGUE.map((e) => e.componentType),
    );
    assert.ok(dapr.targets.resourceTypes.includes('Microsoft.DocumentDB/databaseAccounts'));
    assert.deepEqual(dapr.targets.resourceGroups, ['{resourceGroup}']);
    assert.equal(dapr.azureClientId, false);
    assert.equal(dapr.entityManagement, false);
    assert.deepEqual(dapr.environments, [], "only the app's own resource group's environments");
    assert.equal(dapr.unscopedComponents, 'refuse');
  });

  it('dapr.environments takes environment ids and bare names; anything else is refused with its key path', () => {
    const envId = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.App/managedEnvironments/env-shared`;
    const dapr = load(withDapr({ targets: { resourceGroups: ['x'] }, environments: [envId, 'env-team'], unscopedComponents: 'allow' }))
      .rules[0]!.dapr!;
    assert.deepEqual(dapr.environments, [envId, 'env-team']);
    assert.equal(dapr.unscopedComponents, 'allow');
    assertRejected(
      () =>
        load(
          withDapr({
            targets: { resourceGroups: ['x'] },
            environments: [`/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.Web/sites/env-shared`],
          }),
        ),
      'rules[0].dapr.environments[0]',
      /not the id of a Microsoft.App\/managedEnvironments resource/,
    );
    assertRejected(
      () => load(withDapr({ targets: { resourceGroups: ['x'] }, environments: ['env shared'] })),
      'rules[0].dapr.environments[0]',
      /neither a Microsoft.App\/managedEnvironments id nor an environment name/,
    );
    assertRejected(
      () => load(withDapr({ targets: { resourceGroups: ['x'] }, unscopedComponents: 'yes' })),
      'rules[0].dapr.unscopedComponents',
      /allow|refuse|allowed values/,
    );
  });

  it('names the key path of each mistake', () => {
    assertRejected(() => load(withDapr({})), 'rules[0].dapr.targets', /required/);
    assertRejected(() => load(withDapr({ targets: {} })), 'rules[0].dapr.targets', /resourceGroups and\/or subscriptions/);
    assertRejected(
      () => load(withDapr({ componentTypes: ['state.redis'], targets: { resourceGroups: ['x'] } })),
      'rules[0].dapr.componentTypes[0]',
      /not in the Dapr component catalogue/,
    );
    assertRejected(
      () => load(withDapr({ targets: { resourceGroups: ['x'], resourceTypes: ['Microsoft.Sql/servers'] } })),
      'rules[0].dapr.targets.resourceTypes[0]',
      /not a Dapr component target type/,
    );
    assertRejected(
      () => load(withDapr({ targets: { subscriptions: [OTHER_SUB] } })),
      'rules[0].dapr.targets.subscriptions[0]',
      /not in scope.subscriptions/,
    );
    assertRejected(
      () => load(withDapr({ targets: { resourceGroups: ['x'] }, azureClientid: true })),
      'rules[0].dapr',
      /unknown key 'azureClientid'/,
    );
  });

  it('is refused on a rule with a shared identity', () => {
    assertRejected(
      () =>
        load(withDapr({ targets: { resourceGroups: ['x'] } }, { kind: 'UserAssigned', userAssigned: { name: 'id-shared', shared: true } })),
      'rules[0].dapr',
      /shared identity/,
    );
  });
});

describe('rules: the secretless section (issue 25 item 4)', () => {
  const rule = (extra: Record<string, unknown>) => {
    const raw = baseRules();
    raw.rules = [{ name: 'apps', identity: { kind: 'SystemAssigned' }, ...extra }];
    return raw;
  };
  const dapr = { targets: { resourceGroups: ['x'] } };

  it('is absent unless written; migrate takes the 15-minute window by default, or the one given', () => {
    assert.equal(load(withDapr(dapr)).rules[0]!.secretless, undefined);
    assert.deepEqual(load(rule({ dapr, secretless: { migrate: true } })).rules[0]!.secretless, { migrate: true, windowMinutes: 15 });
    assert.deepEqual(load(rule({ dapr, secretless: { migrate: true, windowMinutes: 0 } })).rules[0]!.secretless, {
      migrate: true,
      windowMinutes: 0,
    });
  });

  it("refuses migrate without the rule's dapr section, in a report rule, and a window that is not whole minutes", () => {
    assertRejected(() => load(rule({ secretless: { migrate: true } })), 'rules[0].secretless.migrate', /needs the rule's dapr section/);
    assertRejected(
      () => load(rule({ dapr, mode: 'report', secretless: { migrate: true } })),
      'rules[0].secretless.migrate',
      /mode: report/,
    );
    assertRejected(
      () => load(rule({ dapr, secretless: { migrate: true, windowMinutes: 1.5 } })),
      'rules[0].secretless.windowMinutes',
      /whole number/,
    );
  });
});

describe('rules: cosmosDataRole in profiles', () => {
  const account = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/acc`;
  function withRole(entry: unknown): any {
    const raw = baseRules();
    raw.profiles.cosmos = { roles: [entry] };
    return raw;
  }

  it('takes a built-in Cosmos DB SQL role by name or id, on a Cosmos DB account', () => {
    const byName = load(withRole({ cosmosDataRole: 'Cosmos DB Built-in Data Contributor', scope: account })).profiles.get('cosmos')!
      .roles[0]!;
    assert.deepEqual(byName, {
      role: {
        kind: 'builtin',
        roleDefinitionGuid: '00000000-0000-0000-0000-000000000002',
        displayName: 'Cosmos DB Built-in Data Contributor',
      },
      scope: account,
      cosmosSql: true,
    });
    const byId = load(withRole({ cosmosDataRole: '00000000-0000-0000-0000-000000000001', scope: account })).profiles.get('cosmos')!
      .roles[0]!;
    assert.equal(byId.role.kind === 'builtin' && byId.role.displayName, 'Cosmos DB Built-in Data Reader');
  });

  it('refuses other roles, other scopes, and mixing with role', () => {
    assertRejected(
      () => load(withRole({ cosmosDataRole: 'Owner', scope: account })),
      'profiles.cosmos.roles[0].cosmosDataRole',
      /not a Cosmos DB built-in SQL role/,
    );
    assertRejected(
      () => load(withRole({ cosmosDataRole: 'Cosmos DB Built-in Data Reader', scope: `/subscriptions/${SUB}/resourceGroups/rg-data` })),
      'profiles.cosmos.roles[0].scope',
      /not a Microsoft.DocumentDB\/databaseAccounts id/,
    );
    assertRejected(
      () => load(withRole({ role: 'Reader', cosmosDataRole: 'Cosmos DB Built-in Data Reader', scope: account })),
      'profiles.cosmos.roles[0]',
      /exactly one of/,
    );
    assertRejected(
      () =>
        load(
          withRole({
            cosmosDataRole: 'Cosmos DB Built-in Data Reader',
            scope: '{tag:cosmos}',
            tagScope: { resourceTypes: ['Microsoft.KeyVault/vaults'], resourceGroups: ['x'] },
          }),
        ),
      'profiles.cosmos.roles[0].tagScope.resourceTypes',
      /only be granted on Microsoft.DocumentDB\/databaseAccounts/,
    );
  });
});
