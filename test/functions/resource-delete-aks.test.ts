import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { federatedCredentialName, workloadIdentityName } from '../../src/engine/workload-identity';
import { resourceDeleteEvent, resourceWriteEvent, SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { credentialsOf } from '../../tools/arm-emulator/handlers/federated-credentials';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { rgReaderRules } from './rules.fixture';

/**
 * Clean-up after an AKS cluster is deleted, through the real Event Grid trigger: the identities and
 * federated credentials the product made for its service accounts, and their grants, go; a service
 * account identity someone else attached to a resource stays, but the deleted cluster's credential on it goes.
 */
const env = useEmulator();
const SERVICE_ACCOUNTS = ['orders/orders-api', 'billing/billing-api'];
const RULES = rgReaderRules(`
  - name: aks-workloads
    match: { types: [Microsoft.ContainerService/managedClusters] }
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
    workloadIdentity:
      serviceAccounts: [${SERVICE_ACCOUNTS.map((s) => `"${s}"`).join(', ')}]
`);
const uaId = (rg: string, name: string) =>
  `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

describe('ResourceDeleteSuccess: an AKS cluster with workload identity', () => {
  let app: ReturnType<typeof buildApp>;
  before(() => {
    grantAppOwner(env.emulator);
    app = buildApp(env, rulesFor(RULES));
  });

  it("removes the service accounts' identities with their credentials and grants; a held one keeps itself and its grants, loses the credential", async () => {
    const rg = 'rg-aks-del';
    const id = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: rg,
      type: SEED_TYPES.managedCluster,
      name: 'aks-del',
      workloadIdentity: { oidcIssuer: true, workloadIdentity: true },
    });
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const identities = SERVICE_ACCOUNTS.map((sa) => {
      const [ns, name] = sa.split('/') as [string, string];
      return uaId(rg, workloadIdentityName(id, ns, name));
    });
    const [gone, held] = identities as [string, string];
    const principals = identities.map((i) => String(env.emulator.state.resource(i)!.body.properties.principalId));
    for (const p of principals) assert.equal(env.emulator.state.assignmentsFor(p).length, 1, 'each identity holds its role');
    const credential = federatedCredentialName(id);
    assert.ok(credentialsOf(env.emulator.state, held).has(credential.toLowerCase()));
    // Someone attaches the second service account's identity to a web app of their own.
    seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-aks-other',
      type: SEED_TYPES.webApp,
      name: 'uses-billing-identity',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [held]: {} } },
    });
    env.emulator.state.deleteResource(id);

    const from = env.emulator.lastSeq;
    const out = await deliver(app, resourceDeleteEvent({ resourceId: id }));
    assert.equal(out.error, undefined, String(out.error));
    assert.equal(out.outcome?.status, 'gone', JSON.stringify(out.outcome));
    assert.equal(env.emulator.state.resource(gone), undefined, "the first service account's identity is deleted");
    assert.equal(env.emulator.state.assignmentsFor(principals[0]!).length, 0, 'with its grant');
    assert.ok(env.emulator.state.resource(held), 'the held identity stays');
    assert.equal(env.emulator.state.assignmentsFor(principals[1]!).length, 1, 'with its grant');
    assert.deepEqual([...credentialsOf(env.emulator.state, held).keys()], [], "the deleted cluster's credential on it is removed");
    const deleted = env.emulator
      .requestsSince(from)
      .filter((r) => r.method === 'DELETE')
      .map((r) => r.path.toLowerCase());
    assert.deepEqual(
      deleted.filter((p) => p.includes('federatedidentitycredentials')),
      [`${held}/federatedIdentityCredentials/${credential}`.toLowerCase()],
      'the removed identity takes its credential with it: no DELETE of its own',
    );
  });
});
