import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesText } from '../../src/config';
import { applyPlan } from '../../src/engine/apply';
import { assessPlan } from '../../src/engine/assessment';
import { planRemediation } from '../../src/engine/plan';
import type { Plan, ResourceState } from '../../src/engine/types';
import { budget, FakeAzure, READER, rgScope, SUB } from './fake-ports';

const rules = parseRulesText(
  `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles:
  reader:
    roles: [{ role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }]
rules:
  - name: aks
    match: { types: [Microsoft.ContainerService/managedClusters] }
    identity: { kind: SystemAssigned }
    profiles: [reader]
    workloadIdentity:
      serviceAccounts: ["app/api"]
`,
  'wi-unit-test.yaml',
);
const settings = {
  principalNotFoundBackoff: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
  conflictBackoff: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
};

function cluster(): ResourceState {
  const id = `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks`;
  return {
    id,
    type: 'Microsoft.ContainerService/managedClusters',
    subscriptionId: SUB,
    resourceGroup: 'rg-aks',
    name: 'aks',
    location: 'westeurope',
    tags: {},
    identity: { type: 'SystemAssigned', principalId: 'cluster-pid', userAssigned: [] },
    rawBody: {},
    blockers: [],
    workloadIdentity: { oidcIssuerEnabled: true, issuerUrl: 'https://issuer.example/', workloadIdentityEnabled: true },
  };
}

function planFor(resource: ResourceState): Plan {
  const result = planRemediation(resource, rules);
  assert.equal(result.kind, 'plan', JSON.stringify(result));
  return (result as Extract<typeof result, { kind: 'plan' }>).plan;
}

describe('AKS workload identity through the grant kinds, against fake ports', () => {
  it('apply: per service account, its identity, one credential list and write, then its roles', async () => {
    const azure = new FakeAzure();
    const aks = cluster();
    const plan = planFor(aks);
    const wi = plan.workloadIdentities![0]!;
    const result = await applyPlan(plan, aks, azure.ports(), settings, budget(), {});
    assert.deepEqual(azure.calls, [
      `ensureIdentity ${wi.identity.id}`,
      `listCredentials ${wi.identity.id}`,
      `putCredential ${wi.identity.id} ${wi.credential.name}`,
      `createRoleAssignment ${rgScope('rg-aks')} ${READER}`,
    ]);
    assert.equal(result.workloadIdentities?.[0]?.credential.status, 'created');
    assert.deepEqual(result.workloadIdentities?.[0]?.roles, [`Reader @ ${rgScope('rg-aks')}`]);
  });

  it('assessment without writes: an identity not there yet is `missing` and the plan needs writes', async () => {
    const azure = new FakeAzure();
    const aks = cluster();
    const plan = planFor(aks);
    const findings = await assessPlan(plan, rules, aks, undefined, azure.ports(), budget(), 'plan mode');
    assert.equal(findings.status, 'planned');
    assert.equal(findings.workloadIdentities?.[0]?.credential.status, 'missing');
    assert.ok(
      azure.calls.every((c) => !/^(ensure|put|create)/.test(c)),
      azure.calls.join('\n'),
    );
  });
});
