import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  builtinRoleById,
  builtinRoleByName,
  CUSTOM_ROLE_CACHE_TTL_MS,
  type FoundRoleDefinition,
  grantsAccessControl,
  type RoleDefinitionLookup,
  RoleResolver,
  roleDefinitionIdFor,
} from '../../src/config';
import { isAutopilotError } from '../../src/errors';
import { OTHER_SUB, SUB } from './helpers';

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

describe('built-in roles table', () => {
  it('holds the 933 bundled roles and looks names up case-insensitively', () => {
    const table = JSON.parse(readFileSync(join(__dirname, '../../src/config/builtin-roles.json'), 'utf8')) as unknown[];
    assert.equal(table.length, 933);
    assert.deepEqual(builtinRoleByName('key vault secrets user'), {
      roleName: 'Key Vault Secrets User',
      id: '4633458b-17de-408a-b874-0445c86b69e6',
      permissions: [],
    });
    assert.equal(builtinRoleById('B24988AC-6180-42A0-AB88-20F7382DD24C')?.roleName, 'Contributor');
    assert.equal(builtinRoleByName('Contoso Reader'), undefined);
  });

  it('builds subscription-scoped role definition ids', () => {
    assert.equal(roleDefinitionIdFor('ABC', SUB), `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/abc`);
  });
});

const READ_ONLY = [{ actions: ['Microsoft.AppConfiguration/configurationStores/read'] }];

class CountingLookup implements RoleDefinitionLookup {
  calls: Array<[string, string]> = [];
  constructor(
    private readonly roles: Record<string, string>,
    private readonly permissions: Record<string, FoundRoleDefinition['permissions']> = {},
  ) {}
  private found(guid: string) {
    const permissions = guid in this.permissions ? this.permissions[guid] : READ_ONLY;
    return { id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`, name: guid, permissions };
  }
  async findRoleDefinitionByName(scope: string, roleName: string) {
    this.calls.push([scope, roleName]);
    const guid = this.roles[roleName];
    return guid ? this.found(guid) : undefined;
  }
  async getRoleDefinition(scope: string, guid: string) {
    this.calls.push([scope, guid]);
    return Object.values(this.roles).includes(guid) || guid in this.permissions ? this.found(guid) : undefined;
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isAutopilotError(err) && err.code === code);
}

describe('RoleResolver', () => {
  const CUSTOM = '11111111-2222-3333-4444-555555555555';

  it('resolves built-in references without calling the API; a GUID that is not built-in is looked up once, like a custom role', async () => {
    const lookup = new CountingLookup({ 'Contoso Reader': CUSTOM });
    const resolver = new RoleResolver(lookup);
    const resolved = await resolver.resolve(
      { kind: 'builtin', roleDefinitionGuid: '4633458b-17de-408a-b874-0445c86b69e6', displayName: 'Key Vault Secrets User' },
      SUB,
    );
    assert.deepEqual(resolved, {
      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
      roleDefinitionGuid: '4633458b-17de-408a-b874-0445c86b69e6',
      displayName: 'Key Vault Secrets User',
    });
    assert.equal(lookup.calls.length, 0);
    await resolver.resolve({ kind: 'id', roleDefinitionGuid: CUSTOM, displayName: CUSTOM }, SUB);
    await resolver.resolve({ kind: 'id', roleDefinitionGuid: CUSTOM, displayName: CUSTOM }, SUB);
    assert.deepEqual(lookup.calls, [[`/subscriptions/${SUB}`, CUSTOM]]);
  });

  it('refuses custom roles that can grant access, by name or by GUID, and roles whose permissions cannot be read', async () => {
    const DELEGATOR = '99999999-2222-3333-4444-555555555555';
    const OPAQUE = '88888888-2222-3333-4444-555555555555';
    const lookup = new CountingLookup(
      { Delegator: DELEGATOR, Opaque: OPAQUE },
      { [DELEGATOR]: [{ actions: ['Microsoft.Authorization/*'] }], [OPAQUE]: undefined },
    );
    const resolver = new RoleResolver(lookup);
    await rejectsWith(resolver.resolve({ kind: 'custom', roleName: 'Delegator' }, SUB), 'PrivilegedRoleRefused');
    await rejectsWith(
      resolver.resolve({ kind: 'id', roleDefinitionGuid: DELEGATOR, displayName: DELEGATOR }, SUB),
      'PrivilegedRoleRefused',
    );
    await rejectsWith(resolver.resolve({ kind: 'custom', roleName: 'Opaque' }, SUB), 'PrivilegedRoleRefused');
  });

  it("matches Azure's action wildcards, including a /*/ segment that also matches a single /", () => {
    assert.ok(grantsAccessControl([{ actions: ['Microsoft.Authorization/roleAssignments/*/write'] }]));
    assert.ok(grantsAccessControl([{ actions: ['microsoft.authorization/*'] }]));
    // Contributor's shape: `*` minus Microsoft.Authorization writes still writes federated credentials.
    assert.ok(
      grantsAccessControl([
        { actions: ['*'], notActions: ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action'] },
      ]),
    );
    assert.ok(
      !grantsAccessControl([
        {
          actions: ['*'],
          notActions: [
            'Microsoft.Authorization/*/Write',
            'Microsoft.Authorization/elevateAccess/Action',
            'Microsoft.ManagedIdentity/*/write',
          ],
        },
      ]),
    );
    assert.ok(grantsAccessControl([{ actions: ['*/write'] }]));
    assert.ok(grantsAccessControl([{ actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/*/write'] }]));
    assert.ok(grantsAccessControl([{ actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/*'] }]));
    assert.ok(grantsAccessControl([{ dataActions: ['*'] }]), 'data actions are checked too');
    // notActions subtract within their own entry only, as in Azure.
    assert.ok(grantsAccessControl([{ actions: ['*'] }, { actions: ['Microsoft.Web/*'], notActions: ['*'] }]));
    assert.ok(!grantsAccessControl([{ actions: ['Microsoft.Authorization/*/read'] }]));
    assert.ok(
      !grantsAccessControl([
        {
          actions: [
            'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
            'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
          ],
        },
      ]),
    );
  });

  it('looks a custom role up once per subscription and name', async () => {
    const lookup = new CountingLookup({ 'Contoso Reader': CUSTOM });
    const resolver = new RoleResolver(lookup);
    const ref = { kind: 'custom', roleName: 'Contoso Reader' } as const;
    const [a, b] = await Promise.all([resolver.resolve(ref, SUB), resolver.resolve(ref, SUB)]);
    await resolver.resolve(ref, SUB);
    assert.equal(a.roleDefinitionGuid, CUSTOM);
    assert.deepEqual(a, b);
    assert.deepEqual(lookup.calls, [[`/subscriptions/${SUB}`, 'Contoso Reader']]);
    const other = await resolver.resolve(ref, OTHER_SUB);
    assert.equal(other.roleDefinitionId, `/subscriptions/${OTHER_SUB}/providers/Microsoft.Authorization/roleDefinitions/${CUSTOM}`);
    assert.equal(lookup.calls.length, 2);
  });

  it("hands the caller's call budget (its hand-off time) to the lookup, so a throttled lookup is handed off, not waited for", async () => {
    const seen: unknown[] = [];
    const lookup: RoleDefinitionLookup = {
      findRoleDefinitionByName: async (_scope, _name, call) => {
        seen.push(call);
        return {
          id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${CUSTOM}`,
          name: CUSTOM,
          permissions: READ_ONLY,
        };
      },
      getRoleDefinition: async (_scope, _guid, call) => {
        seen.push(call);
        return undefined;
      },
    };
    const budget = { signal: new AbortController().signal, handOffAt: Date.now() + 20_000 };
    await new RoleResolver(lookup).resolve({ kind: 'custom', roleName: 'Contoso Reader' }, SUB, budget);
    assert.deepEqual(seen, [budget]);
  });

  it('re-reads a custom role once its cached definition is older than the TTL (time injected, no sleep)', async () => {
    const permissions: Record<string, FoundRoleDefinition['permissions']> = { [CUSTOM]: READ_ONLY };
    const lookup = new CountingLookup({ 'Contoso Reader': CUSTOM }, permissions);
    let now = 1_000_000;
    const resolver = new RoleResolver(lookup, { now: () => now });
    const ref = { kind: 'custom', roleName: 'Contoso Reader' } as const;
    await resolver.resolve(ref, SUB);
    // An administrator widens the role to write federated credentials (token minting for any identity).
    permissions[CUSTOM] = [{ actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/*/write'] }];
    now += CUSTOM_ROLE_CACHE_TTL_MS - 1;
    await resolver.resolve(ref, SUB);
    assert.equal(lookup.calls.length, 1, 'still within the TTL: served from the cache');
    now += 1;
    await rejectsWith(resolver.resolve(ref, SUB), 'PrivilegedRoleRefused');
    assert.equal(lookup.calls.length, 2, 'expired: read again from ARM');
    // The same for a GUID reference that is not a built-in role.
    const byId = { kind: 'id', roleDefinitionGuid: CUSTOM, displayName: CUSTOM } as const;
    permissions[CUSTOM] = READ_ONLY;
    await resolver.resolve(byId, SUB);
    permissions[CUSTOM] = [{ actions: ['Microsoft.Authorization/roleAssignments/write'] }];
    now += CUSTOM_ROLE_CACHE_TTL_MS;
    await rejectsWith(resolver.resolve(byId, SUB), 'PrivilegedRoleRefused');
  });

  it('throws RoleNotFound for an unknown custom role and does not cache the miss', async () => {
    const lookup = new CountingLookup({});
    const resolver = new RoleResolver(lookup);
    await rejectsWith(resolver.resolve({ kind: 'custom', roleName: 'Nope' }, SUB), 'RoleNotFound');
    await rejectsWith(resolver.resolve({ kind: 'custom', roleName: 'Nope' }, SUB), 'RoleNotFound');
    assert.equal(lookup.calls.length, 2);
  });

  it('refuses a custom role name that resolves to a privileged role', async () => {
    const resolver = new RoleResolver(new CountingLookup({ 'Sneaky Admin': OWNER }));
    await rejectsWith(resolver.resolve({ kind: 'custom', roleName: 'Sneaky Admin' }, SUB), 'PrivilegedRoleRefused');
  });

  it('refuses a privileged built-in reference built outside the loader', async () => {
    const resolver = new RoleResolver(new CountingLookup({}));
    await rejectsWith(
      resolver.resolve({ kind: 'builtin', roleDefinitionGuid: OWNER.toUpperCase(), displayName: 'Owner' }, SUB),
      'PrivilegedRoleRefused',
    );
  });
});
