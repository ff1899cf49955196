import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  allBuiltinRoles,
  builtinRoleRefusal,
  loadRulesFile,
  parseRulesText,
  type RulesConfig,
  SUPPORTED_RESOURCE_TYPES,
} from '../../src/config';

/** Every built-in role the product refuses, from the role table (see test/config/builtin-roles.test.ts). */
const PRIVILEGED_BUILTIN_GUIDS = allBuiltinRoles()
  .filter((r) => builtinRoleRefusal(r) !== undefined)
  .map((r) => r.id);

import type { AppPermissionsParametersFile } from '../../scripts/infra/params';
import {
  AppPermissionsError,
  buildRoleAssignmentCondition,
  deriveAppPermissions,
  RBAC_ADMINISTRATOR_ROLE_GUID,
} from '../../scripts/infra/permissions';
import { evaluateCondition } from '../../tools/arm-emulator/abac-condition';
import {
  EXAMPLE_CUSTOM_ROLE_GUID,
  EXAMPLE_CUSTOM_ROLE_NAME,
  EXAMPLE_ROLE_GUIDS,
  EXAMPLE_RULES_PATH,
  EXAMPLE_SUBSCRIPTION,
} from './example-rules.fixture';

const REPO = join(__dirname, '../..');
const EXAMPLE_RULES = EXAMPLE_RULES_PATH;
const SUB = EXAMPLE_SUBSCRIPTION;
const CUSTOM_ROLE = EXAMPLE_CUSTOM_ROLE_NAME;
const CUSTOM_GUID = EXAMPLE_CUSTOM_ROLE_GUID;
const GUID = {
  ...EXAMPLE_ROLE_GUIDS,
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
};
// The example rules govern the whole catalogue (test/architecture/catalogue.test.ts holds them to it).
const TYPES = [...SUPPORTED_RESOURCE_TYPES];
const COMMON_TAIL = [
  'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Authorization/roleAssignments/read',
  'Microsoft.Authorization/roleDefinitions/read',
  'Microsoft.ResourceGraph/resources/read',
];
const withCustomRole = { customRoleGuids: new Map([[CUSTOM_ROLE, CUSTOM_GUID]]) };

function rules(yaml: string): RulesConfig {
  return parseRulesText(yaml, 'test.yaml');
}

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppPermissionsError, `expected AppPermissionsError, got ${String(err)}`);
    return err.code;
  }
  return undefined;
}

describe('deriveAppPermissions', () => {
  const example = loadRulesFile(EXAMPLE_RULES);

  it('gives exactly the expected actions, subscriptions and role GUIDs for the example rules', () => {
    const p = deriveAppPermissions(example, withCustomRole);
    assert.deepEqual(p.subscriptions, [SUB]);
    assert.deepEqual(p.actions, [
      ...TYPES.flatMap((t) => [`${t}/read`, `${t}/write`]),
      // Whether a scale set's instances run the model is read without the upgrade opt-in (issue 23, item 13).
      'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/read',
      // container-apps and container-groups use UserAssigned identities, which the engine creates.
      'Microsoft.ManagedIdentity/userAssignedIdentities/write',
      ...COMMON_TAIL,
      // kv-secrets-reader's tag-chosen vault is read (exists, is a vault) before the grant.
      'Microsoft.KeyVault/vaults/read',
    ]);
    assert.deepEqual(
      p.assignableRoleGuids,
      [CUSTOM_GUID, GUID.keyVaultSecretsUser, GUID.storageBlobDataReader, GUID.monitoringMetricsPublisher].sort(),
    );
  });

  it('never lets the engine assign Owner, User Access Administrator or RBAC Administrator', () => {
    const p = deriveAppPermissions(example, withCustomRole);
    for (const guid of [...PRIVILEGED_BUILTIN_GUIDS, RBAC_ADMINISTRATOR_ROLE_GUID]) {
      assert.ok(!p.assignableRoleGuids.includes(guid), guid);
    }
    assert.ok(!p.actions.some((a) => a.startsWith('Microsoft.Authorization/') && !a.endsWith('/read')), 'no Authorization write action');
    assert.ok(!p.actions.some((a) => a.includes('*')), 'no wildcard action');
    // A custom role GUID that is really a privileged built-in is refused too.
    const ownerInDisguise = { customRoleGuids: new Map([[CUSTOM_ROLE, '8E3AF657-A8FF-443C-A75C-2FE8C4BCB635']]) };
    assert.equal(
      thrownCode(() => deriveAppPermissions(example, ownerInDisguise)),
      'PrivilegedRole',
    );
  });

  it('fails with instructions when a custom role has no GUID, or a bad one', () => {
    assert.throws(
      () => deriveAppPermissions(example),
      (err: unknown) =>
        err instanceof AppPermissionsError &&
        err.code === 'CustomRoleUnresolved' &&
        err.message.includes(`'${CUSTOM_ROLE}'`) &&
        err.message.includes(`--custom-role "${CUSTOM_ROLE}=<guid>"`),
    );
    assert.equal(
      thrownCode(() => deriveAppPermissions(example, { customRoleGuids: new Map([[CUSTOM_ROLE, 'not-a-guid']]) })),
      'InvalidRoleGuid',
    );
    // Custom role names match case-insensitively, like the rest of Azure.
    const lower = { customRoleGuids: new Map([[CUSTOM_ROLE.toLowerCase(), CUSTOM_GUID]]) };
    assert.ok(deriveAppPermissions(example, lower).assignableRoleGuids.includes(CUSTOM_GUID));
  });

  it('adds the scale-set upgrade action only when an enforce rule for scale sets opts in to upgradeInstances (the instance read always)', () => {
    const text = (workload: string, mode = 'enforce') => `
version: 1
scope:
  subscriptions: ["${SUB}"]
  resourceTypes: [Microsoft.Compute/virtualMachineScaleSets, Microsoft.Web/sites]
profiles:
  reader:
    roles: [{ role: Storage Blob Data Reader, scope: "/subscriptions/{subscriptionId}" }]
rules:
  - name: sets
    identity: { kind: SystemAssigned }
    profiles: [reader]
    mode: ${mode}
    ${workload}
`;
    const upgrade = [
      'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
      'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action',
    ];
    const actions = (t: string) => deriveAppPermissions(rules(t)).actions;
    assert.deepEqual(
      actions(text('workload: { upgradeInstances: true }')).filter((a) => upgrade.includes(a)),
      upgrade,
    );
    // Without the opt-in only the instance list is read (is the workload on the model? issue 23, item 13).
    assert.deepEqual(
      actions(text('')).filter((a) => upgrade.includes(a)),
      [upgrade[0]],
    );
    assert.deepEqual(
      actions(text('workload: { upgradeInstances: true }', 'report')).filter((a) => upgrade.includes(a)),
      [upgrade[0]],
    );
  });

  it('narrows to the governed types, SystemAssigned-only rules and enforced profiles', () => {
    const config = rules(`
version: 1
scope:
  subscriptions: ["${SUB}", "00000000-0000-0000-0000-0000000000AB"]
  resourceTypes: [Microsoft.Web/sites]
profiles:
  reader:
    roles: [{ role: Storage Blob Data Reader, scope: "/subscriptions/{subscriptionId}" }]
  unused:
    roles: [{ role: Website Contributor, scope: "/subscriptions/{subscriptionId}" }]
  reported:
    roles: [{ role: Key Vault Secrets User, scope: "/subscriptions/{subscriptionId}" }]
rules:
  - name: apps
    identity: { kind: SystemAssigned }
    tagSelectableProfiles: [reader]
  - name: trial
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    profiles: [reported]
    mode: report
`);
    const p = deriveAppPermissions(config);
    assert.deepEqual(p.subscriptions, [SUB, '00000000-0000-0000-0000-0000000000ab']);
    assert.deepEqual(p.actions, [
      'Microsoft.Web/sites/read',
      'Microsoft.Web/sites/write',
      'Microsoft.ManagedIdentity/userAssignedIdentities/read',
      ...COMMON_TAIL,
    ]);
    assert.deepEqual(p.assignableRoleGuids, [GUID.storageBlobDataReader]);
  });
});

describe('buildRoleAssignmentCondition', () => {
  const guids = [GUID.keyVaultSecretsUser, GUID.storageBlobDataReader];
  const condition = buildRoleAssignmentCondition(guids);
  const write = (roleGuid: string, principalType: string) => ({
    action: 'Microsoft.Authorization/roleAssignments/write',
    request: {
      'Microsoft.Authorization/roleAssignments:RoleDefinitionId': roleGuid,
      'Microsoft.Authorization/roleAssignments:PrincipalType': principalType,
    },
    resource: {},
  });
  const remove = (roleGuid: string, principalType?: string) => ({
    action: 'Microsoft.Authorization/roleAssignments/delete',
    request: {},
    resource: {
      'Microsoft.Authorization/roleAssignments:RoleDefinitionId': roleGuid,
      'Microsoft.Authorization/roleAssignments:PrincipalType': principalType,
    },
  });

  it('lists the GUIDs for write and delete and restricts both to service principals', () => {
    const set = `{${guids.join(', ')}}`;
    assert.ok(condition.includes(`@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${set}`));
    assert.ok(
      condition.includes(`@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${set}`),
    );
    assert.ok(
      condition.includes(
        "@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}",
      ),
    );
    assert.ok(
      condition.includes(
        "@Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}",
      ),
    );
    assert.ok(condition.includes("ActionMatches{'Microsoft.Authorization/roleAssignments/write'}"));
    assert.ok(condition.includes("ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}"));
  });

  it('allows exactly the listed roles, to service principals, when the emulator evaluates it', () => {
    assert.equal(evaluateCondition(condition, write(GUID.storageBlobDataReader, 'ServicePrincipal')), true);
    assert.equal(evaluateCondition(condition, write(GUID.keyVaultSecretsUser.toUpperCase(), 'servicePrincipal')), true);
    assert.equal(evaluateCondition(condition, write(GUID.storageBlobDataReader, 'User')), false);
    assert.equal(evaluateCondition(condition, write(GUID.contributor, 'ServicePrincipal')), false);
    assert.equal(evaluateCondition(condition, write(RBAC_ADMINISTRATOR_ROLE_GUID, 'ServicePrincipal')), false);
    assert.equal(evaluateCondition(condition, remove(GUID.keyVaultSecretsUser, 'ServicePrincipal')), true);
    assert.equal(evaluateCondition(condition, remove(GUID.keyVaultSecretsUser, 'User')), false, 'an allowed role held by a person');
    assert.equal(evaluateCondition(condition, remove(GUID.keyVaultSecretsUser, 'Group')), false);
    assert.equal(evaluateCondition(condition, remove(GUID.keyVaultSecretsUser)), false, 'unknown principal type: denied');
    assert.equal(evaluateCondition(condition, remove(GUID.contributor, 'ServicePrincipal')), false);
  });

  it('normalises GUIDs and refuses empty, malformed, privileged or oversized lists', () => {
    assert.equal(
      buildRoleAssignmentCondition([GUID.storageBlobDataReader.toUpperCase(), GUID.storageBlobDataReader]),
      buildRoleAssignmentCondition([GUID.storageBlobDataReader]),
    );
    assert.equal(
      thrownCode(() => buildRoleAssignmentCondition([])),
      'NoRoles',
    );
    assert.equal(
      thrownCode(() => buildRoleAssignmentCondition(['Reader'])),
      'InvalidRoleGuid',
    );
    for (const guid of PRIVILEGED_BUILTIN_GUIDS) {
      assert.equal(
        thrownCode(() => buildRoleAssignmentCondition([GUID.storageBlobDataReader, guid])),
        'PrivilegedRole',
      );
    }
    const many = Array.from({ length: 120 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    assert.equal(
      thrownCode(() => buildRoleAssignmentCondition(many)),
      'ConditionTooLarge',
    );
  });
});

describe('scripts/infra/params.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-infra-params-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'config'));
  // Only the example exists: the script must fall back to it.
  copyFileSync(EXAMPLE_RULES, join(dir, 'config/rules.example.yaml'));
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', tsx, join(REPO, 'scripts/infra/params.ts'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, AUTOPILOT_CUSTOM_ROLES: '' },
    });

  it('writes a valid parameters file for the example rules', () => {
    const result = run('--offline', '--custom-role', `${CUSTOM_ROLE}=${CUSTOM_GUID}`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /warning: --custom-role "Contoso App Config Reader=[^"]+": not checked against Azure \(--offline\)/);
    const file = JSON.parse(readFileSync(join(dir, 'infra/app-permissions.parameters.json'), 'utf8')) as AppPermissionsParametersFile;
    assert.equal(file.contentVersion, '1.0.0.0');
    assert.match(file.$schema, /deploymentParameters\.json#$/);
    const expected = deriveAppPermissions(loadRulesFile(EXAMPLE_RULES), withCustomRole);
    const p = file.parameters;
    assert.deepEqual(p.governedSubscriptionIds.value, expected.subscriptions);
    assert.deepEqual(p.governedResourceTypes.value, TYPES);
    assert.deepEqual(p.engineRoleActions.value, expected.actions);
    assert.deepEqual(p.assignableRoleDefinitionGuids.value, expected.assignableRoleGuids);
    assert.deepEqual(p.roleAssignerActions.value, [
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleAssignments/delete',
    ]);
    assert.equal(p.roleAssignmentCondition.value, buildRoleAssignmentCondition(expected.assignableRoleGuids));
  });

  it('fails with a clear message when a custom role GUID is missing', () => {
    const result = run('--out', 'other.json');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /custom role\(s\) 'Contoso App Config Reader'.*--custom-role/);
  });

  it('refuses a privileged built-in role in the rules, with the key path', () => {
    const rulesPath = join(dir, 'privileged.yaml');
    const text = readFileSync(EXAMPLE_RULES, 'utf8').replace('role: Key Vault Secrets User', 'role: Key Vault Data Access Administrator');
    assert.notEqual(text, readFileSync(EXAMPLE_RULES, 'utf8'));
    writeFileSync(rulesPath, text);
    const result = run(rulesPath, '--offline', '--out', 'privileged.json', '--custom-role', `${CUSTOM_ROLE}=${CUSTOM_GUID}`);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /profiles\.[\w-]+\.roles\[\d+\]\.role: role 'Key Vault Data Access Administrator' allows Microsoft\.Authorization\/roleAssignments\/write/,
    );
    assert.ok(!existsSync(join(dir, 'privileged.json')), 'nothing written');
  });

  it('refuses a --custom-role whose GUID is a built-in role (checked offline, from the role table)', () => {
    const readerGuid = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
    const misnamed = run('--offline', '--out', 'misnamed.json', '--custom-role', `${CUSTOM_ROLE}=${readerGuid}`);
    assert.equal(misnamed.status, 1);
    assert.match(
      misnamed.stderr,
      /--custom-role "Contoso App Config Reader=acdd72a7-[^"]+": acdd72a7-3385-48ef-bd42-f606fba81ae7 is the built-in role 'Reader', not a custom role named 'Contoso App Config Reader'/,
    );
    const owner = run('--offline', '--out', 'misnamed.json', '--custom-role', `${CUSTOM_ROLE}=8e3af657-a8ff-443c-a75c-2fe8c4bcb635`);
    assert.equal(owner.status, 1);
    assert.match(owner.stderr, /is the built-in role 'Owner'.*role 'Owner' allows/);
    assert.ok(!existsSync(join(dir, 'misnamed.json')), 'nothing written');
  });
});
