/**
 * Issue 23, item 9: a Key Vault that uses access policies (`enableRbacAuthorization` false or absent)
 * ignores Azure RBAC for its data, so a role granted there is reported done while the workload gets 403.
 * Through the real Event Grid trigger, with the app holding exactly the grants infra/ derives from these
 * rules: such a vault, whether a tag, a Dapr component or the rules name it, blocks the remediation with
 * VaultUsesAccessPolicies and a remedy, and nothing at all is written (no identity, no role, no
 * component, never an access policy).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { canReadSecretsThroughRbac } from '../../tools/arm-emulator/key-vault';
import { compileKql } from '../../tools/arm-emulator/kql';
import { SEED_TYPES, seedResource, seedScopeResource } from '../../tools/arm-emulator/seed';
import { seedDaprComponent, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const RG = 'rg-kv-team';
const vaultId = (name: string, rg = RG) => `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
const STATIC_VAULT = vaultId('kv-static-policies', 'rg-platform');
const ENV = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-demo`;

const RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.Web/sites, Microsoft.App/containerApps]
profiles:
  own-vault:
    roles:
      - role: Key Vault Secrets User
        scope: "{tag:kv-id}"
        tagScope:
          resourceTypes: [Microsoft.KeyVault/vaults]
          resourceGroups: ["{resourceGroup}"]
  platform-secrets:
    roles:
      - role: Key Vault Secrets User
        scope: "${STATIC_VAULT}"
rules:
  - name: static
    match: { tags: { vault: static } }
    identity: { kind: SystemAssigned }
    profiles: [platform-secrets]
  - name: web
    match: { types: [Microsoft.Web/sites] }
    identity: { kind: SystemAssigned }
    tagSelectableProfiles: [own-vault]
  - name: dapr
    match: { types: [Microsoft.App/containerApps] }
    identity: { kind: SystemAssigned }
    dapr:
      targets: { resourceGroups: ["{resourceGroup}"] }
`;

const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const env = useEmulator();

describe('Key Vaults that use access policies: blocked with a remedy, nothing written', () => {
  let app: Autopilot;

  before(() => {
    const rules = rulesFor(RULES);
    const permissions = grantDerived(env, rules, SUB_A);
    // The vault is read for its permission model, whoever named it: the derived role allows that read.
    assert.ok(permissions.actions.includes('Microsoft.KeyVault/vaults/read'));
    seedManagedEnvironment(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, name: 'env-demo' });
    seedScopeResource(env.emulator.state, STATIC_VAULT, 'westeurope', {}, { enableRbacAuthorization: false });
    compileKql('resources | take 1');
    app = buildApp(env, rules);
  });

  const webApp = (name: string, tags: Record<string, string>) =>
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: RG, type: SEED_TYPES.webApp, name, tags });

  /** Delivers the event; asserts the VaultUsesAccessPolicies block and that nothing at all was written. */
  async function assertBlocked(id: string, vault: string): Promise<void> {
    const before = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, 'a block is permanent: acknowledged, not redelivered');
    assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
    const blocker = d.outcome?.blockers[0];
    assert.equal(blocker?.code, 'VaultUsesAccessPolicies');
    assert.match(blocker?.detail ?? '', new RegExp(`'${vault.split('/').pop()}' uses access policies`));
    assert.match(blocker?.remedy ?? '', /--enable-rbac-authorization true/);
    assert.match(blocker?.remedy ?? '', /access policy/);
    const writes = env.emulator
      .requestsSince(before, { writesOnly: true })
      .filter((r) => !/Microsoft\.ResourceGraph\/resources$/i.test(r.path));
    assert.deepEqual(writes, [], 'no identity, no role assignment, no component or vault write (Resource Graph queries aside)');
    assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
    assert.deepEqual(env.emulator.state.resource(vault)!.body.properties.accessPolicies, [], 'no access policy was added');
  }

  it('a tag naming a vault with enableRbacAuthorization false: blocked', async () => {
    const vault = seedScopeResource(env.emulator.state, vaultId('kv-policies'), 'westeurope', {}, { enableRbacAuthorization: false });
    await assertBlocked(webApp('web-policies', { 'identity-autopilot-profiles': 'own-vault', 'kv-id': vault }), vault);
  });

  it('a vault without the property (the RP default, as getVault.json shows it): blocked', async () => {
    const vault = seedScopeResource(env.emulator.state, vaultId('kv-default'), 'westeurope', {}, { enableRbacAuthorization: null });
    assert.equal('enableRbacAuthorization' in env.emulator.state.resource(vault)!.body.properties, false);
    await assertBlocked(webApp('web-default', { 'identity-autopilot-profiles': 'own-vault', 'kv-id': vault }), vault);
  });

  it('a vault the rules name themselves: blocked', async () => {
    await assertBlocked(webApp('web-static', { vault: 'static' }), STATIC_VAULT);
  });

  it("a Dapr secret store's vault that uses access policies: blocked, the component untouched", async () => {
    const vault = seedScopeResource(env.emulator.state, vaultId('kv-dapr-policies'), 'westeurope', {}, { enableRbacAuthorization: false });
    const component = seedDaprComponent(env.emulator.state, ENV, 'secrets-policies', {
      componentType: 'secretstores.azure.keyvault',
      metadata: [{ name: 'vaultName', value: 'kv-dapr-policies' }],
      scopes: ['ca-policies'],
    });
    const before = structuredClone(env.emulator.state.resource(component)?.body);
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: RG,
      type: SEED_TYPES.containerApp,
      name: 'ca-policies',
    });
    await assertBlocked(id, vault);
    assert.deepEqual(env.emulator.state.resource(component)?.body, before);
  });

  it('the same grant on a vault that uses Azure RBAC is made, and lets the identity read secrets', async () => {
    const vault = seedScopeResource(env.emulator.state, vaultId('kv-rbac'), 'westeurope', {}, { enableRbacAuthorization: true });
    const id = webApp('web-rbac', { 'identity-autopilot-profiles': 'own-vault', 'kv-id': vault });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const principal = env.emulator.state.resource(id)!.body.identity.principalId as string;
    assert.ok(env.emulator.state.assignmentsFor(principal).some((a) => a.roleDefinitionGuid === KV_SECRETS_USER));
    assert.equal(canReadSecretsThroughRbac(env.emulator.state, vault, principal), true);
  });

  it('the emulator: on an access-policy vault a Secrets User assignment grants no data access', () => {
    const vault = seedScopeResource(env.emulator.state, vaultId('kv-ignored'), 'westeurope', {}, { enableRbacAuthorization: false });
    const principal = env.emulator.state.directory.create({ displayName: 'someone' }).id;
    env.emulator.state.grant({ scope: vault, roleDefinitionGuid: KV_SECRETS_USER, principalId: principal });
    assert.equal(canReadSecretsThroughRbac(env.emulator.state, vault, principal), false);
  });
});
