import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogueTargetTypes, DAPR_COMPONENT_CATALOGUE } from '../../src/arm/dapr-components';
import { credentialFieldsOf, KEY_PROFILES, LOCAL_AUTH_FLAGS, localAuthFlagOf, localAuthState } from '../../src/arm/dapr-credentials';

describe('the Dapr credential table (secretless)', () => {
  it('has the key profiles of exactly the catalogued component types', () => {
    assert.deepEqual(Object.keys(KEY_PROFILES).sort(), DAPR_COMPONENT_CATALOGUE.map((e) => e.componentType.toLowerCase()).sort());
  });

  it('names, for each credential, a target field the catalogue entry has', () => {
    for (const entry of DAPR_COMPONENT_CATALOGUE) {
      for (const f of credentialFieldsOf(entry.componentType) ?? []) {
        if (f.target)
          assert.ok(
            entry.targets.some((t) => t.field === f.target),
            `${entry.componentType}: ${f.field} -> ${f.target}`,
          );
      }
    }
  });

  it('knows the local-auth switch of every catalogue target type but Key Vault', () => {
    const types = catalogueTargetTypes().map((t) => t.toLowerCase());
    assert.deepEqual(
      types.filter((t) => !localAuthFlagOf(t)),
      ['microsoft.keyvault/vaults'],
    );
    assert.equal(Object.keys(LOCAL_AUTH_FLAGS).length, types.length - 1);
  });

  it('reads an absent or null flag as the default: local auth on', () => {
    const storage = localAuthFlagOf('Microsoft.Storage/storageAccounts')!;
    const bus = localAuthFlagOf('Microsoft.ServiceBus/namespaces')!;
    assert.equal(localAuthState(storage, undefined), 'on');
    assert.equal(localAuthState(storage, null), 'on');
    assert.equal(localAuthState(storage, true), 'on');
    assert.equal(localAuthState(storage, false), 'off');
    assert.equal(localAuthState(bus, undefined), 'on');
    assert.equal(localAuthState(bus, false), 'on');
    assert.equal(localAuthState(bus, true), 'off');
    // A string is not the boolean ARM serves: not proof of anything.
    assert.equal(localAuthState(bus, 'true'), 'on');
  });
});
