import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { loadRulesFile, parseRulesText, RulesFileError, SUPPORTED_RESOURCE_TYPES } from '../../src/config';
import { isAutopilotError } from '../../src/errors';
import { assertRejected, baseRules, load, OTHER_SUB, SUB } from './helpers';

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

describe('the example rules file', () => {
  it('loads with its documented defaults applied', () => {
    const config = loadRulesFile(join(__dirname, '../../config/rules.example.yaml'));
    assert.deepEqual(config.scope.subscriptions, [SUB]);
    assert.deepEqual(config.scope.resourceTypes, [...SUPPORTED_RESOURCE_TYPES]);
    assert.equal(config.scope.optOutTag, 'identity-autopilot-optout');
    assert.deepEqual([...config.profiles.keys()], ['kv-secrets-reader', 'rg-blob-reader', 'monitoring-publisher', 'app-config-reader']);
    assert.deepEqual(config.profiles.get('kv-secrets-reader')!.roles[0]!.role, {
      kind: 'builtin',
      roleDefinitionGuid: '4633458b-17de-408a-b874-0445c86b69e6',
      displayName: 'Key Vault Secrets User',
    });
    assert.deepEqual(config.profiles.get('app-config-reader')!.roles[0]!.role, { kind: 'custom', roleName: 'Contoso App Config Reader' });
    assert.deepEqual(
      config.rules.map((r) => [r.name, r.mode]),
      [
        ['web-apps', 'enforce'],
        ['container-apps', 'enforce'],
        ['container-groups', 'enforce'],
        ['everything-else-report-only', 'report'],
      ],
    );
    assert.deepEqual(config.rules[1]!.identity, {
      kind: 'UserAssigned',
      nameTemplate: 'id-ca-{resourceName}',
      resourceGroupTemplate: '{resourceGroup}',
    });
    assert.deepEqual(config.rules[2]!.identity, {
      kind: 'UserAssigned',
      nameTemplate: 'id-aci-{resourceName}',
      resourceGroupTemplate: '{resourceGroup}',
    });
    assert.deepEqual(config.profiles.get('kv-secrets-reader')!.roles[0]!.tagScope, {
      resourceTypes: ['Microsoft.KeyVault/vaults'],
      resourceGroups: ['{resourceGroup}', 'rg-shared'],
    });
    assert.deepEqual(config.warnings, [], 'the example gives every resource its own identity');
    assert.deepEqual(config.rules[3]!.match, { types: [...SUPPORTED_RESOURCE_TYPES], resourceGroups: ['*'], tags: {} });
  });
});

describe('parseRulesText defaults and normalisation', () => {
  it('fills defaults and canonicalises type spelling', () => {
    const data = baseRules();
    data.scope.resourceTypes = ['microsoft.web/SITES'];
    data.rules[0].match.types = ['MICROSOFT.WEB/sites'];
    const config = load(data);
    assert.deepEqual(config.scope.resourceTypes, ['Microsoft.Web/sites']);
    assert.deepEqual(config.rules[0]!.match.types, ['Microsoft.Web/sites']);
    assert.deepEqual(config.scope.resourceGroups, ['*']);
    assert.equal(config.scope.profileTag, 'identity-autopilot-profiles');
    assert.equal(config.rules[0]!.mode, 'enforce');
    assert.equal(config.source, 'rules.yaml');
    // The safe workload defaults: nothing restarts, no instance is upgraded, roles go to what pods use.
    assert.deepEqual(config.rules[0]!.workload, { allowRestart: false, aksPrincipal: 'kubelet', upgradeInstances: false });
  });

  it("reads a rule's workload options and refuses unknown ones with the key path", () => {
    const data = baseRules();
    data.rules[0].workload = { allowRestart: true, aksPrincipal: 'cluster' };
    assert.deepEqual(load(data).rules[0]!.workload, { allowRestart: true, aksPrincipal: 'cluster', upgradeInstances: false });
    data.rules[0].workload = { aksPrincipal: 'pods' };
    assertRejected(() => load(data), 'rules[0].workload.aksPrincipal', /kubelet|cluster|allowed/);
  });

  it('accepts a role by GUID and by full role definition id', () => {
    const data = baseRules();
    data.profiles['kv-reader'].roles = [
      {
        role: '4633458B-17DE-408A-B874-0445C86B69E6',
        scope: '{tag:kv-id}',
        tagScope: { resourceTypes: ['Microsoft.KeyVault/vaults'], resourceGroups: ['*'] },
      },
      {
        role: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1`,
        scope: '{resourceId}',
      },
      { role: '11111111-2222-3333-4444-555555555555', scope: '{resourceId}' },
    ];
    const roles = load(data)
      .profiles.get('kv-reader')!
      .roles.map((r) => r.role);
    assert.deepEqual(roles, [
      { kind: 'builtin', roleDefinitionGuid: '4633458b-17de-408a-b874-0445c86b69e6', displayName: 'Key Vault Secrets User' },
      { kind: 'builtin', roleDefinitionGuid: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', displayName: 'Storage Blob Data Reader' },
      { kind: 'id', roleDefinitionGuid: '11111111-2222-3333-4444-555555555555', displayName: '11111111-2222-3333-4444-555555555555' },
    ]);
  });
});

describe('bad rules files', () => {
  it('names an unknown key and where it is', () => {
    const data = baseRules();
    data.rules[0].match.typez = ['Microsoft.Web/sites'];
    const err = assertRejected(
      () => load(data),
      'rules[0].match',
      /^unknown key 'typez' \(expected one of: types, resourceGroups, tags\)$/,
    );
    const typezLine =
      stringify(data)
        .split('\n')
        .findIndex((l) => l.trim().startsWith('typez:')) + 1;
    assert.equal(err.line, typezLine);
    assert.ok(err.message.endsWith(`(line ${typezLine})`));
  });

  it('names an unknown top-level key', () => {
    const data = baseRules();
    data.foo = 1;
    assertRejected(() => load(data), '', /^unknown key 'foo'/);
  });

  it('explains a bad enum value', () => {
    const data = baseRules();
    data.rules[0].identity.kind = 'Both';
    assertRejected(() => load(data), 'rules[0].identity.kind', /^must be one of SystemAssigned, UserAssigned$/);
  });

  it('reports a missing required key at its own path', () => {
    const data = baseRules();
    delete data.scope.subscriptions;
    assertRejected(() => load(data), 'scope.subscriptions', /^is required unless scope.managementGroups is given/);
  });

  it('explains a wrong type and a wrong version', () => {
    const data = baseRules();
    data.rules[0].profiles = 'kv-reader';
    assertRejected(() => load(data), 'rules[0].profiles', /^must be a list$/);
    const v2 = baseRules();
    v2.version = 2;
    assertRejected(() => load(v2), 'version', /^must be 1$/);
  });

  it('rejects a subscription that is not a GUID', () => {
    const data = baseRules();
    data.scope.subscriptions = ['my-sub'];
    assertRejected(() => load(data), 'scope.subscriptions[0]', /GUID/);
  });

  it('rejects an unsupported resource type', () => {
    const data = baseRules();
    data.scope.resourceTypes = ['Microsoft.Web/sites', 'Microsoft.Storage/storageAccounts'];
    assertRejected(() => load(data), 'scope.resourceTypes[1]', /'Microsoft.Storage\/storageAccounts' is not a supported resource type/);
  });

  it('rejects a rule type outside the governed types', () => {
    const data = baseRules();
    data.scope.resourceTypes = ['Microsoft.App/containerApps'];
    assertRejected(() => load(data), 'rules[0].match.types[0]', /is not one of scope.resourceTypes/);
  });

  it('rejects a rule that references an undefined profile', () => {
    const data = baseRules();
    data.rules[0].profiles = ['kv-reader', 'kv-writer'];
    assertRejected(() => load(data), 'rules[0].profiles[1]', /^profile 'kv-writer' is not defined under profiles$/);
    const selectable = baseRules();
    selectable.rules[0].tagSelectableProfiles = ['nope'];
    assertRejected(() => load(selectable), 'rules[0].tagSelectableProfiles[0]', /profile 'nope' is not defined/);
  });

  for (const [how, role] of [
    ['name', 'Owner'],
    ['name in another case', 'oWnEr'],
    ['GUID', OWNER.toUpperCase()],
    ['subscription-scoped id', `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${OWNER}`],
    ['tenant-scoped id', `/providers/Microsoft.Authorization/roleDefinitions/${OWNER}`],
  ] as const) {
    it(`refuses Owner given by ${how}`, () => {
      const data = baseRules();
      data.profiles['kv-reader'].roles[0].role = role;
      assertRejected(
        () => load(data),
        'profiles.kv-reader.roles[0].role',
        /role 'Owner' allows Microsoft\.Authorization\/roleAssignments\/write/,
      );
    });
  }

  it('refuses User Access Administrator and RBAC Administrator, also as customRole', () => {
    const data = baseRules();
    data.profiles['kv-reader'].roles[0].role = 'user access administrator';
    assertRejected(
      () => load(data),
      'profiles.kv-reader.roles[0].role',
      /'User Access Administrator' allows Microsoft\.Authorization\/roleAssignments\/write/,
    );
    const rbac = baseRules();
    rbac.profiles['kv-reader'].roles[0].role = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168';
    assertRejected(
      () => load(rbac),
      'profiles.kv-reader.roles[0].role',
      /'Role Based Access Control Administrator' allows Microsoft\.Authorization\/roleAssignments\/write /,
    );
    const custom = baseRules();
    custom.profiles['kv-reader'].roles[0] = { customRole: 'Owner', scope: '{tag:kv-id}' };
    assertRejected(() => load(custom), 'profiles.kv-reader.roles[0].customRole', /'Owner' allows /);
  });

  it('requires unknown role names to be declared as customRole', () => {
    const data = baseRules();
    data.profiles['kv-reader'].roles[0].role = 'Contoso Reader';
    assertRejected(() => load(data), 'profiles.kv-reader.roles[0].role', /not a built-in role name; write 'customRole: Contoso Reader'/);
  });

  it('requires exactly one of role and customRole', () => {
    const data = baseRules();
    data.profiles['kv-reader'].roles[0].customRole = 'Contoso Reader';
    assertRejected(() => load(data), 'profiles.kv-reader.roles[0]', /exactly one of 'role'/);
  });

  it('rejects a malformed literal scope', () => {
    const data = baseRules();
    data.profiles['rg-blob-reader'].roles[0].scope = '/subscriptions/not-a-guid/resourceGroups/rg';
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /subscription id is not a GUID/);
  });

  it('rejects a literal scope in an ungoverned subscription, a management group, or with ..', () => {
    const data = baseRules();
    data.profiles['rg-blob-reader'].roles[0].scope = `/subscriptions/${OTHER_SUB}/resourceGroups/rg`;
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /not in scope.subscriptions/);
    data.profiles['rg-blob-reader'].roles[0].scope = '/providers/Microsoft.Management/managementGroups/root';
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /management group/);
    data.profiles['rg-blob-reader'].roles[0].scope = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/..`;
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /contains '\.\.'/);
  });

  it('rejects a templated scope whose literal parts are misspelt', () => {
    const data = baseRules();
    data.profiles['rg-blob-reader'].roles[0].scope = '/subscription/{subscriptionId}/resourceGroups/{resourceGroup}';
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /does not produce a valid scope/);
  });

  it('rejects an unknown placeholder and unbalanced braces', () => {
    const data = baseRules();
    data.profiles['rg-blob-reader'].roles[0].scope = '/subscriptions/{subscription}/resourceGroups/{resourceGroup}';
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /^unknown placeholder '\{subscription\}' \(known: /);
    data.profiles['rg-blob-reader'].roles[0].scope = '/subscriptions/{subscriptionId/resourceGroups/x';
    assertRejected(() => load(data), 'profiles.rg-blob-reader.roles[0].scope', /without a matching '\}'/);
  });

  it('requires userAssigned when kind is UserAssigned, and only then', () => {
    const data = baseRules();
    data.rules[0].identity = { kind: 'UserAssigned' };
    assertRejected(() => load(data), 'rules[0].identity.userAssigned', /^is required when kind is UserAssigned$/);
    data.rules[0].identity = { kind: 'SystemAssigned', userAssigned: { name: 'id-x' } };
    assertRejected(() => load(data), 'rules[0].identity.userAssigned', /only allowed when kind is UserAssigned/);
  });

  it('checks user-assigned identity templates', () => {
    const data = baseRules();
    data.rules[0].identity = { kind: 'UserAssigned', userAssigned: { name: 'id-{resourceId}' } };
    assertRejected(() => load(data), 'rules[0].identity.userAssigned.name', /contains '\/'/);
    data.rules[0].identity = { kind: 'UserAssigned', userAssigned: { name: 'x' } };
    assertRejected(() => load(data), 'rules[0].identity.userAssigned.name', /not a valid identity name/);
  });

  it('rejects duplicate rule names (case-insensitively)', () => {
    const data = baseRules();
    data.rules.push({ ...data.rules[0], name: 'Web-Apps' });
    assertRejected(() => load(data), 'rules[1].name', /^duplicate rule name 'Web-Apps' \(also used by rules\[0\]\)$/);
  });

  it('rejects a profile name that could not be written in the profile tag', () => {
    const data = baseRules();
    data.profiles['a,b'] = data.profiles['kv-reader'];
    assertRejected(() => load(data), 'profiles["a,b"]', /profile names must be/);
  });

  it('gives the line of a YAML syntax error', () => {
    const text = 'version: 1\nscope:\n  subscriptions: [a, b\nprofiles: {}\n';
    let caught: unknown;
    try {
      parseRulesText(text, 'rules.yaml');
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof RulesFileError);
    assert.equal(caught.code, 'InvalidRulesFile');
    assert.equal(caught.keyPath, '');
    assert.equal(caught.line, 4);
    assert.match(caught.reason, /^YAML syntax error: .*line 4, column 1$/);
    assert.ok(!caught.message.includes('\n'), 'one-line message');
  });

  it('rejects duplicate YAML keys and an empty file', () => {
    assertRejected(() => parseRulesText('version: 1\nversion: 1\n', 'rules.yaml'), '', /YAML syntax error: Map keys must be unique/);
    assertRejected(() => parseRulesText('# nothing\n', 'rules.yaml'), '', /the file is empty/);
  });

  it('reports an unreadable file as InvalidRulesFile naming the path', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rules-')), 'missing.yaml');
    assert.throws(
      () => loadRulesFile(path),
      (err: unknown) => isAutopilotError(err) && err.code === 'InvalidRulesFile' && err.message.startsWith(`${path}: `),
    );
    const ok = join(mkdtempSync(join(tmpdir(), 'rules-')), 'rules.yaml');
    writeFileSync(ok, `version: 1\nscope: { subscriptions: ["${SUB}"] }\nprofiles: {}\nrules: []\n`);
    assert.equal(loadRulesFile(ok).source, ok);
  });
});
