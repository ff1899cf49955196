import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseArmId } from '../../src/arm/resource-id';
import { consentAdmits, type TagScopeConstraint, tagScopeProblem } from '../../src/config';
import { assertRejected, baseRules, load, OTHER_SUB, SUB } from './helpers';

const _KV_ROLE = ['profiles', 'kv-reader', 'roles', 0];
const source = parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Web/sites/web1`);

function userAssigned(data: any, userAssigned: Record<string, unknown>, rule = 0): any {
  data.rules[rule].identity = { kind: 'UserAssigned', userAssigned };
  return data;
}

describe('rules loader: tag-derived scopes must be declared', () => {
  it('refuses a {tag:...} scope without tagScope, naming the key path and a suggested fix', () => {
    const data = baseRules();
    delete data.profiles['kv-reader'].roles[0].tagScope;
    assertRejected(
      () => load(data),
      'profiles.kv-reader.roles[0].scope',
      /takes its scope from a tag.*tagScope: \{ resourceTypes: \[Microsoft\.KeyVault\/vaults\], resourceGroups: \["\{resourceGroup\}"\] \}/,
    );
    // A tag used as one segment (a tag-chosen resource group) needs a declaration just the same.
    const segment = baseRules();
    segment.profiles['kv-reader'].roles[0] = { role: 'Reader', scope: '/subscriptions/{subscriptionId}/resourceGroups/{tag:data-rg}' };
    assertRejected(() => load(segment), 'profiles.kv-reader.roles[0].scope', /takes its scope from a tag/);
  });

  it('refuses tagScope where no tag is used, unknown target types, and a declaration without where', () => {
    const stray = baseRules();
    stray.profiles['rg-blob-reader'].roles[0].tagScope = { resourceTypes: ['resourceGroup'], resourceGroups: ['*'] };
    assertRejected(() => load(stray), 'profiles.rg-blob-reader.roles[0].tagScope', /only allowed when scope takes a value from a tag/);
    const unknown = baseRules();
    unknown.profiles['kv-reader'].roles[0].tagScope.resourceTypes = ['Microsoft.Sql/servers'];
    assertRejected(
      () => load(unknown),
      'profiles.kv-reader.roles[0].tagScope.resourceTypes[0]',
      /not a type the product can verify.*Microsoft\.KeyVault\/vaults/,
    );
    const mg = baseRules();
    mg.profiles['kv-reader'].roles[0].tagScope.resourceTypes = ['managementGroup'];
    assertRejected(() => load(mg), 'profiles.kv-reader.roles[0].tagScope.resourceTypes[0]', /management groups are never allowed/);
    const nowhere = baseRules();
    nowhere.profiles['kv-reader'].roles[0].tagScope = { resourceTypes: ['Microsoft.KeyVault/vaults'] };
    assertRejected(() => load(nowhere), 'profiles.kv-reader.roles[0].tagScope', /needs resourceGroups and\/or subscriptions/);
    const ungoverned = baseRules();
    ungoverned.profiles['kv-reader'].roles[0].tagScope.subscriptions = [OTHER_SUB];
    assertRejected(() => load(ungoverned), 'profiles.kv-reader.roles[0].tagScope.subscriptions[0]', /not in scope\.subscriptions/);
    const badGlob = baseRules();
    badGlob.profiles['kv-reader'].roles[0].tagScope.resourceGroups = ['{resourceName}'];
    assertRejected(
      () => load(badGlob),
      'profiles.kv-reader.roles[0].tagScope.resourceGroups[0]',
      /placeholders: \{resourceGroup\}, \{subscriptionId\}/,
    );
  });

  it('keeps a valid declaration, canonical type spelling included', () => {
    const data = baseRules();
    data.profiles['kv-reader'].roles[0].tagScope = {
      resourceTypes: ['microsoft.keyvault/VAULTS', 'resourcegroup'],
      subscriptions: ['{subscriptionId}', SUB.toUpperCase()],
      consentTag: 'kv-consumers',
    };
    assert.deepEqual(load(data).profiles.get('kv-reader')!.roles[0]!.tagScope, {
      resourceTypes: ['Microsoft.KeyVault/vaults', 'resourceGroup'],
      subscriptions: ['{subscriptionId}', SUB],
      consentTag: 'kv-consumers',
    });
  });
});

describe('rules loader: user-assigned identities', () => {
  it('refuses a tag-driven identity name or resource group', () => {
    assertRejected(
      () => load(userAssigned(baseRules(), { name: 'id-{tag:team}' })),
      'rules[0].identity.userAssigned.name',
      /a tag cannot choose the identity's name/,
    );
    assertRejected(
      () => load(userAssigned(baseRules(), { name: 'id-{resourceName}', resourceGroup: '{tag:identity-rg}' })),
      'rules[0].identity.userAssigned.resourceGroup',
      /a tag cannot choose the identity's resource group/,
    );
  });

  it('a shared identity takes no tag-selected profiles and no tag-derived scope', () => {
    const selectable = userAssigned(baseRules(), { name: 'id-shared', shared: true });
    selectable.rules[0].profiles = [];
    assertRejected(() => load(selectable), 'rules[0].tagSelectableProfiles', /must be empty for a rule with a shared identity/);
    const tagScoped = userAssigned(baseRules(), { name: 'id-shared', shared: true });
    tagScoped.rules[0].tagSelectableProfiles = [];
    assertRejected(() => load(tagScoped), 'rules[0].profiles[0]', /profile 'kv-reader' takes a scope from a tag/);
    const ok = userAssigned(baseRules(), { name: 'id-shared', shared: true });
    ok.rules[0].profiles = ['rg-blob-reader'];
    ok.rules[0].tagSelectableProfiles = [];
    const rule = load(ok).rules[0]!;
    assert.deepEqual(rule.identity, {
      kind: 'UserAssigned',
      nameTemplate: 'id-shared',
      resourceGroupTemplate: '{resourceGroup}',
      shared: true,
    });
    assert.deepEqual(load(ok).warnings, [], 'a declared shared identity is not warned about');
  });

  it('warns when an identity name is not unique per resource type, resource group and name', () => {
    const reasons = (data: any) => load(data).warnings!.map((w) => `${w.keyPath}: ${w.reason}`);
    assert.deepEqual(
      reasons(userAssigned(baseRules(), { name: 'id-{resourceName}' })),
      [],
      'one type, own resource group, per name: unique',
    );
    assert.match(
      reasons(userAssigned(baseRules(), { name: 'id-fixed' }))[0]!,
      /^rules\[0\]\.identity\.userAssigned\.name: 'id-fixed' does not contain \{resourceName\}.*IdentityNotOwned.*shared: true/,
    );
    assert.match(
      reasons(userAssigned(baseRules(), { name: 'id-{resourceName}', resourceGroup: 'rg-identities' }))[0]!,
      /neither name nor resourceGroup uses \{resourceGroup\}/,
    );
    const twoTypes = userAssigned(baseRules(), { name: 'id-{resourceName}' });
    twoTypes.rules[0].match.types = ['Microsoft.App/containerApps', 'Microsoft.ContainerInstance/containerGroups'];
    assert.match(reasons(twoTypes)[0]!, /matches 2 types .* one rule per type/);
    const twoRules = userAssigned(baseRules(), { name: 'id-{resourceName}' });
    twoRules.rules.push({ ...structuredClone(twoRules.rules[0]), name: 'second', match: { types: ['Microsoft.App/containerApps'] } });
    assert.match(
      reasons(twoRules)[0]!,
      /^rules\[1\]\.identity\.userAssigned\.name: rules\[0\] uses the same identity name and resource group templates/,
    );
  });
});

describe('tagScopeProblem and consentAdmits', () => {
  const vault = (sub: string, rg: string) =>
    parseArmId(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/kv`);
  const own: TagScopeConstraint = { resourceTypes: ['Microsoft.KeyVault/vaults'], resourceGroups: ['{resourceGroup}', 'rg-shared-*'] };

  it("expresses 'a vault in my own resource group' and named shared groups, in the source's subscription only by default", () => {
    assert.equal(tagScopeProblem(vault(SUB, 'APP-WEB'), own, source), undefined, 'resource group names compare case-insensitively');
    assert.equal(tagScopeProblem(vault(SUB, 'rg-shared-eu'), own, source), undefined);
    assert.match(tagScopeProblem(vault(SUB, 'app-web2'), own, source)!, /resource group 'app-web2'/);
    assert.match(tagScopeProblem(vault(OTHER_SUB, 'app-web'), own, source)!, /subscription 99999999/);
    assert.equal(tagScopeProblem(vault(OTHER_SUB, 'app-web'), { ...own, subscriptions: [OTHER_SUB] }, source), undefined);
    assert.match(tagScopeProblem(parseArmId(`/subscriptions/${SUB}`), own, source)!, /whole subscription/);
    assert.match(tagScopeProblem(parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web`), own, source)!, /whole resource group/);
    assert.match(
      tagScopeProblem(
        parseArmId('/providers/Microsoft.Management/managementGroups/root'),
        { resourceTypes: ['subscription'], subscriptions: ['{subscriptionId}'] },
        source,
      )!,
      /never/,
    );
    assert.equal(
      tagScopeProblem(
        parseArmId(`/subscriptions/${SUB}`),
        { resourceTypes: ['subscription'], subscriptions: ['{subscriptionId}'] },
        source,
      ),
      undefined,
    );
    // The same declaration through the loader: the placeholder survives it.
    const data = baseRules();
    data.profiles['kv-reader'].roles[0].tagScope = { resourceTypes: ['subscription'], subscriptions: ['{subscriptionId}'] };
    const loaded = load(data).profiles.get('kv-reader')!.roles[0]!.tagScope!;
    assert.equal(tagScopeProblem(parseArmId(`/subscriptions/${SUB}`), loaded, source), undefined);
  });

  it('reads consent as subscriptions, resource groups of the target subscription, or sub/rg pairs', () => {
    const target = vault(SUB, 'rg-platform');
    assert.equal(consentAdmits(undefined, target, source), false, 'no tag, no consent');
    assert.equal(consentAdmits('app-*', target, source), true);
    assert.equal(consentAdmits(`rg-other, ${SUB}`, target, source), true);
    assert.equal(consentAdmits(`${SUB}/APP-WEB`, target, source), true);
    assert.equal(consentAdmits(`${OTHER_SUB}/app-web, rg-other`, target, source), false);
    assert.equal(
      consentAdmits('app-web', vault(OTHER_SUB, 'rg-platform'), source),
      false,
      'a bare resource group means the target’s own subscription',
    );
  });
});

describe('start-up', () => {
  it('a bad rules file (undeclared tag scope, tag-driven identity name) stops the Functions app with the key path and reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const cases: Array<[any, RegExp]> = [];
    const undeclared = baseRules();
    delete undeclared.profiles['kv-reader'].roles[0].tagScope;
    cases.push([undeclared, /profiles\.kv-reader\.roles\[0\]\.scope: takes its scope from a tag/]);
    cases.push([userAssigned(baseRules(), { name: 'id-{tag:team}' }), /rules\[0\]\.identity\.userAssigned\.name: a tag cannot choose/]);
    cases.forEach(([data, expected], i) => {
      const path = join(dir, `rules-${i}.yaml`);
      writeFileSync(path, stringify(data));
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./src/functions/index.ts')"], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, AUTOPILOT_RULES_PATH: path },
      });
      assert.notEqual(r.status, 0, 'start-up stops');
      assert.match(r.stderr, expected);
    });
  });
});
