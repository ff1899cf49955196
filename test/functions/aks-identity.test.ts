import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Autopilot } from '../../src/app/composition';
import { renderLedger, renderOutcome } from '../../src/cli/render';
import { ROLE } from '../../tools/arm-emulator';
import { concurrentWrite } from '../../tools/arm-emulator/etags';
import { resourceWriteEvent } from '../../tools/arm-emulator/events';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { buildApp, deliver, grantAppOwner, rulesFor } from '../support/app-fixture';
import { useAzurite } from '../support/azurite';
import { EASY_AUTH_ON } from '../support/easy-auth';
import { SUB_A, useEmulator } from '../support/emulator-fixture';
import { call } from '../support/http-api';
import { aksRules as rules } from './rules.fixture';

/**
 * AKS through the real Event Grid handler against the stricter emulator: pods reach Entra as the
 * kubelet identity, so that is who gets the roles by default; the control plane only when a rule says
 * so; a service-principal cluster is reported, never migrated; the one cluster write (a user-assigned
 * control-plane identity) is a GET-modify-PUT with If-Match that survives a concurrent writer.
 */
const env = useEmulator();
const storage = useAzurite();
const READER = ROLE.reader;

function cluster(resourceGroup: string, name: string, options: { servicePrincipalClientId?: string } = {}) {
  const id = seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup, type: SEED_TYPES.managedCluster, name, ...options });
  const body = env.emulator.state.resource(id)!.body;
  return {
    id,
    body,
    kubelet: body.properties.identityProfile?.kubeletidentity as { resourceId: string; clientId: string; objectId: string } | undefined,
  };
}

/** POST /api/remediations through the real HTTP trigger, as an authorised Entra caller; the parsed answer. */
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

const rolesOf = (principalId: string) =>
  env.emulator.state.assignmentsFor(principalId).map((a) => ({ scope: a.scope.toLowerCase(), role: a.roleDefinitionGuid }));
/** Writes (PUT/PATCH/DELETE) addressed to the cluster itself since `seq`. */
const clusterWrites = (seq: number, id: string) =>
  env.emulator.requestsSince(seq, { writesOnly: true }).filter((r) => r.path.toLowerCase() === id.toLowerCase());

describe('AKS: the identity pods actually use', () => {
  let kubeletApp: Autopilot;
  let clusterApp: Autopilot;
  before(() => {
    grantAppOwner(env.emulator);
    const ledger = {
      ...EASY_AUTH_ON,
      AUTOPILOT_LEDGER_CONNECTION_STRING: storage.azurite.connectionString,
      AUTOPILOT_LEDGER_TABLE: 'akstest',
      AUTOPILOT_OUTCOME_TOPIC_ENDPOINT: `${env.emulator.url}/api/events`,
    };
    kubeletApp = buildApp(env, rulesFor(rules('kubelet')), {}, ledger);
    clusterApp = buildApp(env, rulesFor(rules('cluster')), {}, ledger);
  });

  it('a managed-identity cluster: the kubelet identity gets the roles, the cluster is not written; outcome, event, ledger and CLI name it', async () => {
    const { id, body, kubelet } = cluster('rg-aks-kubelet', 'aks-kubelet');
    assert.ok(kubelet);
    const controlPlane = body.identity.principalId as string;
    const seq = env.emulator.lastSeq;
    const topicBefore = env.emulator.topic.received.length;
    const d = await deliver(kubeletApp, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.error, undefined, String(d.error));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(rolesOf(kubelet.objectId), [{ scope: `/subscriptions/${SUB_A}/resourcegroups/rg-aks-kubelet`, role: READER }]);
    assert.deepEqual(rolesOf(controlPlane), [], 'the control-plane identity gets nothing');
    assert.deepEqual(clusterWrites(seq, id), [], 'no cluster write');
    assert.equal(env.emulator.state.resource(id)!.body.identity.principalId, controlPlane);

    const expected = { role: 'kubelet', objectId: kubelet.objectId, clientId: kubelet.clientId, identityId: kubelet.resourceId };
    // The log line.
    assert.deepEqual(d.outcome!.grantee, expected);
    assert.equal(d.outcome!.principalId, kubelet.objectId);
    // The outcome event.
    const event = env.emulator.topic.received.slice(topicBefore).find((r) => String(r.event.subject).toLowerCase() === id.toLowerCase());
    assert.deepEqual((event!.event.data as { grantee?: unknown }).grantee, expected);
    // The ledger (Table storage, as deployed).
    const [entry] = await kubeletApp.ledger.byResourceId(d.outcome!.resourceId, 1);
    assert.deepEqual(entry?.grantee, expected);
    // The HTTP response (plan mode now: compliant, same principal), and what the CLI prints for it.
    const answer = await post(kubeletApp, { resourceId: id, mode: 'plan' });
    assert.equal(answer.outcome.status, 'compliant');
    assert.deepEqual(answer.outcome.grantee, expected);
    assert.deepEqual(answer.outcome.plan.grantee, expected);
    assert.match(
      renderOutcome(answer.outcome, answer.requestId),
      new RegExp(`principal: kubelet identity, objectId ${kubelet.objectId}, clientId ${kubelet.clientId}`),
    );
    assert.match(
      renderOutcome(d.outcome as never, 'req-1'),
      new RegExp(`principal: kubelet identity, objectId ${kubelet.objectId}, clientId ${kubelet.clientId}`),
    );
    assert.match(renderLedger(id, [entry!]), new RegExp(`kubelet identity, objectId ${kubelet.objectId}`));
  });

  it('aksPrincipal: cluster grants the control-plane identity instead, still without a cluster write', async () => {
    const { id, body, kubelet } = cluster('rg-aks-cp', 'aks-cp');
    const controlPlane = body.identity.principalId as string;
    const seq = env.emulator.lastSeq;
    const d = await deliver(clusterApp, resourceWriteEvent({ resourceId: id }));
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    assert.deepEqual(rolesOf(controlPlane), [{ scope: `/subscriptions/${SUB_A}/resourcegroups/rg-aks-cp`, role: READER }]);
    assert.deepEqual(rolesOf(kubelet!.objectId), []);
    assert.deepEqual(clusterWrites(seq, id), []);
    assert.deepEqual(d.outcome!.grantee, { role: 'cluster', objectId: controlPlane });
  });

  for (const choice of ['kubelet', 'cluster'] as const) {
    it(`a service-principal cluster is blocked with the reason, and nothing is written (aksPrincipal: ${choice})`, async () => {
      const { id } = cluster(`rg-aks-sp-${choice}`, `aks-sp-${choice}`, {
        servicePrincipalClientId: '5a3f1c2e-0000-4000-8000-000000000001',
      });
      const seq = env.emulator.lastSeq;
      const d = await deliver(choice === 'kubelet' ? kubeletApp : clusterApp, resourceWriteEvent({ resourceId: id }));
      assert.equal(d.error, undefined, 'acknowledged: a blocked cluster is not retried');
      assert.equal(d.outcome?.status, 'blocked', JSON.stringify(d.outcome));
      assert.deepEqual(
        d.outcome!.blockers.map((b: { code: string }) => b.code),
        ['ServicePrincipalCluster'],
      );
      assert.match(d.outcome!.blockers[0].detail, /kubelet/);
      assert.match(d.outcome!.blockers[0].remedy, /node-image/);
      assert.deepEqual(env.emulator.requestsSince(seq, { writesOnly: true }), [], 'no write at all: no identity, no role');
      assert.equal(env.emulator.state.resource(id)!.body.identity, undefined);
    });
  }

  it("the one cluster write: a stale ETag gets 412, the product reads again and PUTs with the new ETag, keeping the other writer's change", async () => {
    const app = buildApp(env, rulesFor(rules('cluster', '{ kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }')));
    const { id, body, kubelet } = cluster('rg-aks-ua', 'aks-ua');
    const kubeletBefore = structuredClone(body.properties.identityProfile);
    // Another client writes the cluster just before our first PUT arrives.
    const fault = env.emulator.faults.add({
      method: 'PUT',
      path: `/managedClusters/aks-ua`,
      times: 1,
      action: { kind: 'run', run: (state) => concurrentWrite(state, id) },
    });
    const seq = env.emulator.lastSeq;
    const d = await deliver(app, resourceWriteEvent({ resourceId: id }));
    fault.remove();
    assert.equal(d.outcome?.status, 'remediated', JSON.stringify(d.outcome));
    const calls = env.emulator
      .requestsSince(seq)
      .filter((r) => r.path.toLowerCase() === id.toLowerCase())
      .map((r) => `${r.method} ${r.status}`);
    assert.deepEqual(calls, ['GET 200', 'PUT 412', 'GET 200', 'PUT 200']);
    const after = env.emulator.state.resource(id)!.body;
    assert.equal(after.tags['changed-by'], 'another-client', 'the concurrent change is not overwritten');
    const uaId = `/subscriptions/${SUB_A}/resourceGroups/rg-aks-ua/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aks-ua`;
    assert.equal(after.identity.type, 'UserAssigned');
    assert.deepEqual(Object.keys(after.identity.userAssignedIdentities), [uaId]);
    assert.deepEqual(after.properties.identityProfile, kubeletBefore, 'the kubelet identity is untouched');
    const ua = env.emulator.state.resource(uaId)!.body.properties;
    assert.deepEqual(rolesOf(ua.principalId), [{ scope: `/subscriptions/${SUB_A}/resourcegroups/rg-aks-ua`, role: READER }]);
    assert.deepEqual(rolesOf(kubelet!.objectId), []);
    assert.deepEqual(d.outcome!.grantee, { role: 'cluster', objectId: ua.principalId, clientId: ua.clientId, identityId: uaId });
  });
});
