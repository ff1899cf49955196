import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { OWNER_TAG } from '../../src/azure/user-assigned-identity-port';
import { renderLedger, renderOutcome } from '../../src/cli/render';
import { federatedCredentialName, workloadIdentityName } from '../../src/engine/workload-identity';
import { ROLE } from '../../tools/arm-emulator';
import { concurrentWrite } from '../../tools/arm-emulator/etags';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { credentialsOf, seedFederatedCredential } from '../../tools/arm-emulator/handlers/federated-credentials';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { key } from '../../tools/arm-emulator/state';
import { buildApp, deliver, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { grantDerived } from '../support/derived-grants';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';
import { rgReaderRules } from './rules.fixture';

/**
 * AKS workload identity through the real Event Grid and HTTP triggers, with exactly the grants
 * infra/ derives from these rules (no Owner): one identity per service account, a federated credential
 * for the cluster's OIDC issuer, the rule's roles on that identity, and the clientId for the service
 * account's `azure.workload.identity/client-id` annotation in the outcome, its event, the ledger and the CLI.
 */
const env = useEmulator();
const storage = useAzurite();

const SERVICE_ACCOUNTS = ['orders/orders-api', 'dapr-system/dapr.sidecar-injector'];
const rules = (options = '') =>
  rulesFor(
    rgReaderRules(`
  - name: aks-workloads
    match: { types: [Microsoft.ContainerService/managedClusters] }
    identity: { kind: SystemAssigned }
    profiles: [rg-reader]
    workloadIdentity:
      serviceAccounts: [${SERVICE_ACCOUNTS.map((s) => `"${s}"`).join(', ')}]
      ${options}
`),
  );

type Cluster = { id: string; body: Record<string, any> };
function cluster(resourceGroup: string, name: string, enabled: boolean): Cluster {
  const id = seedResource(env.emulator.state, {
    subscriptionId: SUB_A,
    resourceGroup,
    type: SEED_TYPES.managedCluster,
    name,
    workloadIdentity: { oidcIssuer: enabled, workloadIdentity: enabled },
  });
  return { id, body: env.emulator.state.resource(id)!.body };
}

const uaId = (rg: string, name: string) =>
  `/subscriptions/${SUB_A}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
const identityOf = (c: Cluster, rg: string, sa: string) => {
  const [ns, name] = sa.split('/') as [string, string];
  return uaId(rg, workloadIdentityName(c.id, ns, name));
};
const rolesOf = (principalId: string) =>
  env.emulator.state.assignmentsFor(principalId).map((a) => ({ scope: a.scope.toLowerCase(), role: a.roleDefinitionGuid }));

async function post(app: Autopilot, body: unknown): Promise<any> {
  return (
    await call(app, 'remediationsPost', {
      method: 'POST',
      url: 'http://localhost/api/remediations',
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify(body) },
    })
  ).body;
}

describe('AKS workload identity: a federated credential per service account, from the rules only', () => {
  let app: Autopilot;
  let optInApp: Autopilot;
  before(() => {
    const config = rules();
    const derived = grantDerived(env, config, SUB_A);
    assert.deepEqual(derived.federatedCredentials.actions, [
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
    ]);
    assert.ok(derived.actions.includes('Microsoft.ManagedIdentity/userAssignedIdentities/write'));
    assert.ok(
      !derived.actions.some((a) => a.includes('federatedIdentityCredentials')),
      'the engine role itself holds no federated credential right',
    );
    const settings = {
      ...EASY_AUTH_ON,
      AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString,
      AUTOPILOT_LEDGER_TABLE: 'akswi',
      AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: `${env.emulator.url}/api/events`,
    };
    app = buildApp(env, config, {}, settings);
    optInApp = buildApp(env, rules('enableOnCluster: true'), {}, settings);
  });

  it('creates each identity and its federated credential once, grants the roles, and reports the clientId everywhere; a second run writes nothing', async () => {
    const c = cluster('rg-wi', 'aks-wi', true);
    const issuer = c.body.properties.oidcIssuerProfile.issuerURL as string;
    assert.match(issuer, /^https:\/\/westeurope\.oic\.prod-aks\.azure\.com\/[0-9a-f-]+\/[0-9a-f-]+\/$/);
    const topicBefore = env.emulator.topic.received.length;
    const d = await deliver(app, resourceWriteEvent({ resourceId: c.id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));

    const results = d.outcome!.workloadIdentities as Array<Record<string, any>>;
    assert.deepEqual(
      results.map((r) => r.serviceAccount),
      SERVICE_ACCOUNTS,
    );
    for (const [i, sa] of SERVICE_ACCOUNTS.entries()) {
      const [ns, name] = sa.split('/');
      const id = identityOf(c, 'rg-wi', sa);
      const identity = env.emulator.state.resource(id)!.body;
      assert.equal(identity.tags[OWNER_TAG], `${c.id}#serviceaccount:${sa}`.toLowerCase(), 'bound to this cluster and service account');
      const credentials = [...credentialsOf(env.emulator.state, id).values()];
      assert.deepEqual(
        credentials.map((f) => ({ name: f.name, ...f.properties })),
        [
          {
            name: federatedCredentialName(c.id),
            issuer,
            subject: `system:serviceaccount:${ns}:${name}`,
            audiences: ['api://AzureADTokenExchange'],
          },
        ],
      );
      assert.deepEqual(rolesOf(identity.properties.principalId), [
        { scope: `/subscriptions/${SUB_A}/resourcegroups/rg-wi`, role: ROLE.reader },
      ]);
      const r = results[i]!;
      assert.equal(r.identityId, id);
      assert.equal(r.clientId, identity.properties.clientId);
      assert.equal(r.annotation, `azure.workload.identity/client-id: ${identity.properties.clientId}`);
      assert.equal(r.credential.status, 'created');
    }
    assert.deepEqual(rolesOf(c.body.properties.identityProfile.kubeletidentity.objectId), [], 'the kubelet identity gets nothing');
    assert.deepEqual(rolesOf(c.body.identity.principalId), [], 'nor does the control plane');

    // The outcome event and the ledger carry the same clientIds.
    const event = env.emulator.topic.received.slice(topicBefore).find((r) => String(r.event.subject).toLowerCase() === c.id.toLowerCase());
    assert.deepEqual((event!.event.data as { workloadIdentities?: unknown }).workloadIdentities, results);
    const [entry] = await app.ledger.byResourceId(c.id, 1);
    assert.deepEqual(entry?.workloadIdentities, results);
    const clientIds = results.map((r) => r.clientId as string);
    const cli = renderOutcome(d.outcome as never, 'req-1');
    for (const clientId of clientIds) {
      assert.ok(cli.includes(`annotation: azure.workload.identity/client-id: ${clientId}`), cli);
      assert.ok(renderLedger(c.id, [entry!]).includes(`clientId ${clientId}`));
    }

    // Idempotent: the redelivery (and a plan through the HTTP trigger) finds everything in place.
    const seq = env.emulator.lastSeq;
    const again = await deliver(app, resourceWriteEvent({ resourceId: c.id }));
    assert.equal(again.outcome?.status, 'compliant', JSON.stringify(again.outcome));
    assert.deepEqual(
      env.emulator.requestsSince(seq, { writesOnly: true }).map((r) => `${r.method} ${r.path}`),
      [],
      'no write at all',
    );
    assert.deepEqual(
      again.outcome!.workloadIdentities.map((r: any) => [r.clientId, r.credential.status]),
      clientIds.map((id) => [id, 'exists']),
    );
    const answer = await post(app, { resourceId: c.id, mode: 'plan' });
    assert.equal(answer.outcome.status, 'compliant');
    assert.deepEqual(
      answer.outcome.workloadIdentities.map((r: any) => r.clientId),
      clientIds,
    );
  });

  it('a cluster without the OIDC issuer and workload identity is blocked with the az aks update remedy; nothing is written', async () => {
    const c = cluster('rg-wi-off', 'aks-off', false);
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: c.id }));
    assert.equal(d.error, undefined);
    assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
    assert.deepEqual(
      d.outcome!.blockers.map((b: { code: string }) => b.code),
      ['WorkloadIdentityNotEnabled'],
    );
    assert.match(
      d.outcome!.blockers[0].remedy,
      /az aks update --resource-group rg-wi-off --name aks-off --enable-oidc-issuer --enable-workload-identity/,
    );
    assert.match(d.outcome!.blockers[0].remedy, /enableOnCluster: true/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), [], 'no identity, credential, role or cluster write');
    assert.match(renderOutcome(d.outcome as never, 'req-2'), /blocked: WorkloadIdentityNotEnabled/);
  });

  it('opted in: enables both with one cluster PUT carrying If-Match (re-read after a concurrent writer), then writes the credentials for the new issuer', async () => {
    const c = cluster('rg-wi-optin', 'aks-optin', false);
    const fault = env.emulator.faults.add({
      method: 'PUT',
      path: '/managedClusters/aks-optin',
      times: 1,
      action: { kind: 'run', run: (state) => concurrentWrite(state, c.id) },
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(optInApp, resourceWriteEvent({ resourceId: c.id }));
    fault.remove();
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const clusterCalls = env.emulator
      .requestsSince(seq)
      .filter((r) => r.path.toLowerCase() === c.id.toLowerCase())
      .map((r) => `${r.method} ${r.status}`);
    assert.deepEqual(clusterCalls, ['GET 200', 'PUT 412', 'GET 200', 'PUT 200']);
    const after = env.emulator.state.resource(c.id)!.body;
    assert.equal(after.tags['changed-by'], 'another-client', "the other writer's change is kept");
    assert.equal(after.properties.oidcIssuerProfile.enabled, true);
    assert.equal(after.properties.securityProfile.workloadIdentity.enabled, true);
    const issuer = after.properties.oidcIssuerProfile.issuerURL as string;
    assert.ok(issuer);
    assert.ok(d.outcome!.actions.some((a: any) => a.kind === 'cluster-workload-identity-enabled' && a.issuer === issuer));
    for (const sa of SERVICE_ACCOUNTS) {
      const [credential] = credentialsOf(env.emulator.state, identityOf(c, 'rg-wi-optin', sa)).values();
      assert.equal(credential?.properties.issuer, issuer, 'the credential trusts the issuer the write produced');
    }
  });

  it("someone else's credential under the product's name is reported, not overwritten", async () => {
    const c = cluster('rg-wi-taken', 'aks-taken', true);
    // First run creates the identities; then someone with credential rights repoints one credential.
    assert.equal((await deliver(app, resourceWriteEvent({ resourceId: c.id }))).outcome?.status, 'remediated');
    const id = identityOf(c, 'rg-wi-taken', SERVICE_ACCOUNTS[0]!);
    credentialsOf(env.emulator.state, id).clear();
    const theirs = seedFederatedCredential(env.emulator.state, id, federatedCredentialName(c.id), {
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:attacker/repo:ref:refs/heads/main',
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: c.id }));
    assert.equal(d.outcome?.status, 'failed', JSON.stringify(d.outcome));
    assert.equal(d.outcome!.errors[0].code, 'FederatedCredentialConflict');
    assert.equal(d.outcome!.errors[0].transient, false);
    assert.match(d.outcome!.errors[0].message, /did not write it; it is not overwritten/);
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), [], 'their credential is left as it is');
    assert.equal(
      credentialsOf(env.emulator.state, id).get(theirs.name.toLowerCase())!.properties.subject,
      'repo:attacker/repo:ref:refs/heads/main',
    );
  });

  it('a credential write refused as concurrent (409) is retried after listing again, and lands once', async () => {
    const c = cluster('rg-wi-busy', 'aks-busy', true);
    const id = identityOf(c, 'rg-wi-busy', SERVICE_ACCOUNTS[0]!);
    // Another writer is adding a credential to this identity right now (Learn: concurrent writes get 409).
    env.emulator.state.ficWriteBusyUntil.set(key(id), Date.now() + 400);
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: c.id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const calls = env.emulator
      .requestsSince(seq)
      .filter((r) => r.path.toLowerCase().startsWith(`${id.toLowerCase()}/federatedidentitycredentials`));
    const puts = calls.filter((r) => r.method === 'PUT').map((r) => r.status);
    assert.equal(puts.at(-1), 201);
    assert.ok(puts.slice(0, -1).length >= 1 && puts.slice(0, -1).every((s) => s === 409), JSON.stringify(puts));
    assert.equal(calls.filter((r) => r.method === 'GET').length, puts.length, 'each attempt lists first');
    assert.equal(credentialsOf(env.emulator.state, id).size, 1);
  });

  it('plan mode shows what would be created, with no clientId yet, and writes nothing', async () => {
    const c = cluster('rg-wi-plan', 'aks-plan', true);
    const seq = env.emulator.lastSeq;
    const answer = await post(app, { resourceId: c.id, mode: 'plan' });
    assert.equal(answer.outcome.status, 'planned');
    assert.deepEqual(
      answer.outcome.workloadIdentities.map((r: any) => [r.identityId, r.clientId, r.credential.status]),
      SERVICE_ACCOUNTS.map((sa) => [identityOf(c, 'rg-wi-plan', sa), undefined, 'missing']),
    );
    assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), []);
    assert.match(renderOutcome(answer.outcome, answer.requestId), /clientId not known yet/);
  });
});
