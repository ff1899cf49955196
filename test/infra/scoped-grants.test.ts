/**
 * Issue 23 item 4 and issue 22 item 6: the writes and deletes Azure RBAC conditions cannot narrow
 * (Cosmos DB SQL role assignments, Dapr component writes, user-assigned identity deletes, federated
 * credential deletes) are held only where the rules' bounds allow, derived by `infra:params`
 * (scripts/infra/permissions.ts, bounds.ts). The emulator enforces Azure RBAC for the app's own token,
 * so each bound is proved by a call with that token outside it (403) next to the same call inside it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { deriveAppPermissions, widenedGrantWarnings } from '../../scripts/infra/permissions';
import { ArmClientPool } from '../../src/azure/clients';
import { ArmCosmosRoleAssignmentPort } from '../../src/azure/cosmos-role-assignment-port';
import { ArmDaprPort } from '../../src/azure/dapr-port';
import { seedUserAssignedIdentity } from '../../tools/arm-emulator/seed';
import { seedCosmosAccount, seedDaprComponent, seedManagedEnvironment } from '../../tools/arm-emulator/seed-dapr';
import { rulesFor } from '../support/app-fixture';
import { grantDerived } from '../support/derived-grants';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const ACCOUNT = `/subscriptions/${SUB_A}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-orders`;
const COSMOS_READER = '00000000-0000-0000-0000-000000000001';
const rg = (name: string) => `/subscriptions/${SUB_A}/resourceGroups/${name}`;

/** Literal resource groups everywhere: every scoped grant stays inside them. */
const BOUNDED = `
version: 1
scope:
  subscriptions: ["${SUB_A}"]
  resourceTypes: [Microsoft.App/containerApps, Microsoft.ContainerService/managedClusters]
profiles:
  orders-data:
    roles:
      - cosmosDataRole: Cosmos DB Built-in Data Reader
        scope: "${ACCOUNT}"
rules:
  - name: aks
    match: { types: [Microsoft.ContainerService/managedClusters], resourceGroups: [rg-aks] }
    identity: { kind: SystemAssigned }
    workloadIdentity: { serviceAccounts: [orders/api] }
  - name: apps
    match: { types: [Microsoft.App/containerApps], resourceGroups: [rg-apps] }
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    profiles: [orders-data]
    dapr:
      azureClientId: true
      targets: { resourceGroups: ["{resourceGroup}"] }
`;

/** The same rules with wildcard groups: nothing narrower than the subscription is known. */
const WILD = BOUNDED.replace('resourceGroups: [rg-aks]', 'resourceGroups: ["aks-*"]').replace(
  'resourceGroups: [rg-apps]',
  'resourceGroups: ["*"]',
);

const env = useEmulator();

async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (e) {
    const err = e as { statusCode?: number; status?: number };
    return err.statusCode ?? err.status ?? -1;
  }
}

describe('infra:params: scoped grants from the rules bounds', () => {
  it('holds each risky write and delete only in the groups (or the account) the rules can reach', () => {
    const p = deriveAppPermissions(rulesFor(BOUNDED));
    assert.deepEqual(Object.fromEntries(p.scopedGrants.map((g) => [g.key, g.scopes])), {
      'federated-credentials': [rg('rg-aks')],
      'identity-deletes': [rg('rg-aks'), rg('rg-apps')],
      'cosmos-sql-role-assignments': [rg('rg-apps'), ACCOUNT],
      'dapr-component-writes': [rg('rg-apps')],
    });
    assert.ok(p.scopedGrants.every((g) => g.widened === undefined));
    assert.deepEqual(widenedGrantWarnings(p), []);
    // None of them is in the engine role, which is held across the subscription.
    for (const action of p.scopedGrants.flatMap((g) => g.actions)) assert.ok(!p.actions.includes(action), action);
    assert.ok(p.actions.includes('Microsoft.App/managedEnvironments/daprComponents/read'), 'reads stay subscription-wide');
  });

  it('falls back to the subscription only where wildcards leave nothing narrower, and says so', () => {
    const p = deriveAppPermissions(rulesFor(WILD));
    const scopes = Object.fromEntries(p.scopedGrants.map((g) => [g.key, g.scopes]));
    assert.deepEqual(scopes['federated-credentials'], [`/subscriptions/${SUB_A}`]);
    assert.deepEqual(scopes['dapr-component-writes'], [`/subscriptions/${SUB_A}`]);
    // The literal account stays an account: only the Dapr targets (`{resourceGroup}` of any group) widen.
    assert.deepEqual(scopes['cosmos-sql-role-assignments'], [`/subscriptions/${SUB_A}`]);
    const warnings = widenedGrantWarnings(p);
    assert.equal(warnings.length, 4, warnings.join('\n'));
    assert.match(warnings.find((w) => w.includes('daprComponents/write'))!, /wildcards/);
  });

  it('writes components also in the environments a dapr rule names, and only there', () => {
    const shared = `/subscriptions/${SUB_A}/resourceGroups/rg-platform/providers/Microsoft.App/managedEnvironments/env-shared`;
    const named = BOUNDED.replace('azureClientId: true', `azureClientId: true\n      environments: ["${shared}"]`);
    const p = deriveAppPermissions(rulesFor(named));
    assert.deepEqual(p.scopedGrants.find((g) => g.key === 'dapr-component-writes')!.scopes, [rg('rg-apps'), shared]);
    const byName = deriveAppPermissions(
      rulesFor(BOUNDED.replace('azureClientId: true', 'azureClientId: true\n      environments: [env-shared]')),
    );
    const writes = byName.scopedGrants.find((g) => g.key === 'dapr-component-writes')!;
    assert.deepEqual(writes.scopes, [`/subscriptions/${SUB_A}`]);
    assert.match(writes.widened ?? '', /wildcards|environment/);
  });

  it('writes components for a rule with secretless.migrate (issue 25 item 5), and for no dapr rule with neither opt-in', () => {
    const noWrite = BOUNDED.replace('azureClientId: true', 'azureClientId: false');
    const none = deriveAppPermissions(rulesFor(noWrite));
    assert.equal(
      none.scopedGrants.find((g) => g.key === 'dapr-component-writes'),
      undefined,
      'a dapr rule that only reads components gets no daprComponents/write',
    );
    assert.ok(!none.actions.includes('Microsoft.App/managedEnvironments/daprComponents/write'));
    const shared = `/subscriptions/${SUB_A}/resourceGroups/rg-platform/providers/Microsoft.App/managedEnvironments/env-shared`;
    const migrating = deriveAppPermissions(
      rulesFor(noWrite.replace('azureClientId: false', `environments: ["${shared}"]`).concat('    secretless: { migrate: true }\n')),
    );
    const writes = migrating.scopedGrants.find((g) => g.key === 'dapr-component-writes')!;
    assert.deepEqual(writes.scopes, [rg('rg-apps'), shared], "the app's groups and the environments the rule names");
    assert.equal(writes.widened, undefined);
    assert.match(writes.description, /secretless\.migrate/);
  });

  it('bounds Cosmos DB grants chosen by a tag by their tagScope groups', () => {
    const tagged = BOUNDED.replace(
      `scope: "${ACCOUNT}"`,
      `scope: "{tag:cosmos-id}"\n        tagScope: { resourceTypes: [Microsoft.DocumentDB/databaseAccounts], resourceGroups: [rg-data, "{resourceGroup}-db"] }`,
    );
    const p = deriveAppPermissions(rulesFor(tagged));
    const cosmos = p.scopedGrants.find((g) => g.key === 'cosmos-sql-role-assignments')!;
    assert.deepEqual(cosmos.scopes, [rg('rg-apps'), rg('rg-apps-db'), rg('rg-data')]);
    const anyGroup = deriveAppPermissions(
      rulesFor(tagged.replace('resourceGroups: [rg-data, "{resourceGroup}-db"]', 'resourceGroups: ["*"]')),
    );
    assert.deepEqual(anyGroup.scopedGrants.find((g) => g.key === 'cosmos-sql-role-assignments')!.scopes, [`/subscriptions/${SUB_A}`]);
  });
});

describe("the app's own token, holding exactly the derived grants, outside and inside the bounds", () => {
  let pool: ArmClientPool;
  before(() => {
    grantDerived(env, rulesFor(BOUNDED), SUB_A);
    pool = new ArmClientPool(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal)));
  });

  it('refuses a Cosmos DB SQL role assignment for a user on an account no rule names (403), allows it on the named one', async () => {
    const other = seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-other-team', name: 'cosmos-other' });
    seedCosmosAccount(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-data', name: 'cosmos-orders' });
    const person = env.emulator.state.directory.create({ type: 'User', displayName: 'attacker' });
    const cosmos = new ArmCosmosRoleAssignmentPort(pool, { pollIntervalMs: 10 });
    const write = (accountId: string) => () =>
      cosmos.create(
        {
          accountId,
          name: randomUUID(),
          roleDefinitionId: `${accountId}/sqlRoleDefinitions/${COSMOS_READER}`,
          scope: accountId,
          principalId: person.id,
        },
        AbortSignal.timeout(20_000),
      );
    assert.equal(await statusOf(write(other)), 403);
    assert.equal(await statusOf(write(ACCOUNT)), 200, 'the positive control: the account a profile names');
  });

  it("refuses a Dapr component write in another team's environment (403), allows it in the governed apps' group", async () => {
    const dapr = new ArmDaprPort(pool, async () => [], { pollIntervalMs: 10 });
    const component = (group: string) => {
      const envId = seedManagedEnvironment(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: group, name: `env-${group}` });
      return seedDaprComponent(env.emulator.state, envId, 'secrets', {
        componentType: 'secretstores.azure.keyvault',
        metadata: [{ name: 'vaultName', value: 'kv-team' }],
      });
    };
    const theirs = component('rg-other-team');
    assert.equal(await statusOf(() => dapr.setAzureClientId(theirs, randomUUID(), AbortSignal.timeout(20_000))), 403);
    const clientId = randomUUID();
    const ours = component('rg-apps');
    assert.equal(await statusOf(() => dapr.setAzureClientId(ours, clientId, AbortSignal.timeout(20_000))), 200);
    assert.ok(JSON.stringify(env.emulator.state.resource(ours)?.body ?? {}).includes(clientId));
    assert.ok(!JSON.stringify(env.emulator.state.resource(theirs)?.body ?? {}).includes('azureClientId'));
  });

  it('deletes user-assigned identities and federated credentials only where the rules create them', async () => {
    const msi = pool.for(SUB_A).msi;
    seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-other-team', name: 'id-theirs' });
    seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-apps', name: 'id-ours' });
    seedUserAssignedIdentity(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-aks', name: 'id-wi' });
    assert.equal(await statusOf(() => msi.userAssignedIdentities.delete('rg-other-team', 'id-theirs')), 403);
    assert.equal(await statusOf(() => msi.federatedIdentityCredentials.delete('rg-other-team', 'id-theirs', 'fic')), 403);
    assert.equal(await statusOf(() => msi.federatedIdentityCredentials.delete('rg-aks', 'id-wi', 'fic')), 200);
    assert.equal(await statusOf(() => msi.userAssignedIdentities.delete('rg-apps', 'id-ours')), 200);
    assert.ok(env.emulator.state.resource(`${rg('rg-other-team')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-theirs`));
  });
});
