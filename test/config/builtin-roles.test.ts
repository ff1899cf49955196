/**
 * Privileged built-in roles are recognised from their published permissions (the repository's verbatim
 * copy, scripts/build/data/builtin-role-permissions.json), not from a list: the test derives the refused
 * set from that data with the same matcher the app uses, and checks that the compact table the app ships
 * (src/config/builtin-roles.json) gives the same verdict for every role and that the loader refuses
 * each of them with the key path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generateTable, readFullPermissions, TABLE_PATH } from '../../scripts/build/builtin-roles';
import { accessControlActionsAllowed, allBuiltinRoles, builtinRoleById, builtinRoleRefusal } from '../../src/config';
import { assertRejected, baseRules, load } from './helpers';

const full = readFullPermissions();
/** Refused by their full, published permissions. */
const refusedByData = full.filter((r) => accessControlActionsAllowed(r.permissions).length > 0).map((r) => r.roleName);
const withoutPermissions = allBuiltinRoles()
  .filter((r) => !full.some((f) => f.id.toLowerCase() === r.id.toLowerCase()))
  .map((r) => r.roleName);

describe('built-in roles refused from their permissions', () => {
  it('the shipped table is what scripts/build/builtin-roles.ts generates from the data', () => {
    assert.equal(readFileSync(TABLE_PATH, 'utf8'), generateTable(), 'run npm run build:builtin-roles');
  });

  it('the compact table gives the verdict the full permissions give, for every role', () => {
    assert.equal(full.length, 928);
    for (const role of full) {
      const shipped = builtinRoleById(role.id);
      assert.ok(shipped, role.roleName);
      assert.equal(builtinRoleRefusal(shipped) !== undefined, refusedByData.includes(role.roleName), role.roleName);
    }
  });

  it(`refuses ${32} roles by their permissions and the ${5} whose permissions are unknown`, () => {
    const refused = allBuiltinRoles()
      .filter((r) => builtinRoleRefusal(r) !== undefined)
      .map((r) => r.roleName)
      .sort();
    assert.deepEqual(refused, [...refusedByData, ...withoutPermissions].sort());
    assert.equal(refusedByData.length, 32, refusedByData.join('\n'));
    assert.deepEqual(withoutPermissions.sort(), [
      'Reservations Administrator',
      'Reservations Reader',
      'Service Group Administrator',
      'Service Group Contributor',
      'Service Group Reader',
    ]);
    for (const name of [
      'Owner',
      'User Access Administrator',
      'Role Based Access Control Administrator',
      'Key Vault Data Access Administrator',
      // `*` minus Microsoft.Authorization writes: it still writes federated identity credentials.
      'Contributor',
      'Managed Identity Contributor',
      'Managed Identity Federated Identity Credential Contributor',
      'Azure Red Hat OpenShift Federated Credential',
      'Virtual Machine Data Access Administrator (preview)',
    ]) {
      assert.ok(refused.includes(name), name);
    }
    for (const name of [
      'Reader',
      'Key Vault Secrets User',
      'Storage Blob Data Reader',
      'Monitoring Metrics Publisher',
      'AcrPull',
      'Managed Identity Operator',
      'Website Contributor',
    ]) {
      assert.ok(!refused.includes(name), name);
    }
  });

  it('names what each refused role allows', () => {
    const contributor = allBuiltinRoles().find((r) => r.roleName === 'Contributor')!;
    assert.match(
      builtinRoleRefusal(contributor)!,
      /^role 'Contributor' allows Microsoft\.ManagedIdentity\/userAssignedIdentities\/federatedIdentityCredentials\/write \(/,
    );
    const kvAdmin = allBuiltinRoles().find((r) => r.roleName === 'Key Vault Data Access Administrator')!;
    assert.match(builtinRoleRefusal(kvAdmin)!, /allows Microsoft\.Authorization\/roleAssignments\/write \(/);
    const reservations = allBuiltinRoles().find((r) => r.roleName === 'Reservations Reader')!;
    assert.match(builtinRoleRefusal(reservations)!, /permissions are not in the built-in role table/);
  });

  it('the loader refuses every one of them, by name, GUID or as customRole, with the key path', () => {
    const refused = allBuiltinRoles().filter((r) => builtinRoleRefusal(r) !== undefined);
    assert.equal(refused.length, 37);
    for (const role of refused) {
      const reason = new RegExp(`^role '${role.roleName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'( allows|: its permissions)`);
      const byName = baseRules();
      byName.profiles['kv-reader'].roles[0].role = role.roleName.toUpperCase();
      assertRejected(() => load(byName), 'profiles.kv-reader.roles[0].role', reason);
      const byGuid = baseRules();
      byGuid.profiles['rg-blob-reader'].roles[0].role = role.id;
      assertRejected(() => load(byGuid), 'profiles.rg-blob-reader.roles[0].role', reason);
      const asCustom = baseRules();
      asCustom.profiles['kv-reader'].roles[0] = { customRole: role.roleName, scope: '{tag:kv-id}' };
      assertRejected(() => load(asCustom), 'profiles.kv-reader.roles[0].customRole', reason);
    }
  });

  it('still loads rules that grant roles without such rights', () => {
    const data = baseRules();
    data.profiles['kv-reader'].roles[0].role = 'Managed Identity Operator';
    assert.equal(load(data).profiles.get('kv-reader')!.roles[0]!.role.kind, 'builtin');
  });
});
