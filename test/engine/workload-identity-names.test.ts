import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFacts, resourceTypeHandler } from '../../src/azure/resource-types';
import { parseRulesText } from '../../src/config';
import { credentialDecision } from '../../src/engine/grants/federated-credentials';
import { readIdentity } from '../../src/engine/identity-state';
import { planRemediation } from '../../src/engine/plan';
import type { Plan, ResourceState } from '../../src/engine/types';
import { federatedCredentialName, issuerProblem, workloadIdentityName } from '../../src/engine/workload-identity';

const SUB = '11111111-1111-4111-8111-111111111111';
const aks = (rg: string, name: string) =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
/** ManagedIdentity.json 2024-11-30, federatedIdentityCredentialResourceName. */
const FIC_NAME = /^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$/;
/** Identity names: 3-128 letters, digits, '-' or '_', starting with a letter or digit (src/config/templates.ts). */
const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;

describe('workload identity names: deterministic, valid, and never shared by accident', () => {
  // Cluster names and groups are chosen by whoever creates the cluster.
  const clusters = [
    aks('rg', 'a'),
    aks('rg.with(parens)', '_'),
    aks('RG', 'A'.repeat(63)),
    aks('rg-2', 'a'),
    aks('rg', 'a-'),
    aks('rg', 'a_'),
  ];
  const accounts: Array<[string, string]> = [
    ['orders', 'api'],
    ['a'.repeat(63), `${'b'.repeat(120)}.${'c'.repeat(120)}`],
    ['ns', 'x.y'],
    ['ns', 'x-y'],
  ];

  it('every name matches the spec patterns, and is the same on every run', () => {
    for (const c of clusters) {
      assert.match(federatedCredentialName(c), FIC_NAME);
      assert.equal(federatedCredentialName(c), federatedCredentialName(c));
      for (const [ns, sa] of accounts) {
        assert.match(workloadIdentityName(c, ns, sa), IDENTITY_NAME);
        assert.equal(workloadIdentityName(c, ns, sa), workloadIdentityName(c, ns, sa));
      }
    }
  });

  it('different clusters or service accounts never get the same identity, even when their names reduce to the same text', () => {
    const names = clusters.flatMap((c) => accounts.map(([ns, sa]) => workloadIdentityName(c, ns, sa)));
    assert.equal(new Set(names).size, names.length);
    // Same cluster name in another group; 'x.y' and 'x-y' both reduce to 'x-y'.
    assert.notEqual(workloadIdentityName(aks('rg', 'a'), 'ns', 'x.y'), workloadIdentityName(aks('rg', 'a'), 'ns', 'x-y'));
    assert.notEqual(federatedCredentialName(aks('rg', 'a')), federatedCredentialName(aks('rg-2', 'a')));
    // ARM ids are case-insensitive: the same cluster read with another casing keeps its names.
    assert.equal(workloadIdentityName(aks('RG', 'A'), 'ns', 'sa'), workloadIdentityName(aks('rg', 'a'), 'ns', 'sa'));
  });

  it('refuses issuer URLs that are not plain https URLs', () => {
    assert.equal(issuerProblem('https://westeurope.oic.prod-aks.azure.com/t/u/'), undefined);
    for (const bad of [
      'http://issuer.example/',
      ' https://issuer.example/',
      'https://user:pw@issuer.example/',
      'https://issuer.example/?x=1',
      'not a url',
      `https://x/${'a'.repeat(600)}`,
    ]) {
      assert.notEqual(issuerProblem(bad), undefined, bad);
    }
  });

  it('decides per credential: ours in place, a duplicate under another name, stale ours, theirs, and the limit of 20', () => {
    const wanted = {
      name: 'aks-c-1',
      issuer: 'https://i/',
      subject: 'system:serviceaccount:a:b',
      audiences: ['api://AzureADTokenExchange'],
    };
    const f = (name: string, issuer: string, subject: string, ours: boolean) => ({
      name,
      issuer,
      subject,
      audiences: ['api://AzureADTokenExchange'],
      ours,
    });
    assert.deepEqual(credentialDecision([f('aks-c-1', 'https://i/', wanted.subject, true)], wanted, 'id'), {
      kind: 'exists',
      name: 'aks-c-1',
    });
    assert.deepEqual(credentialDecision([f('manual', 'https://i/', wanted.subject, false)], wanted, 'id'), {
      kind: 'exists',
      name: 'manual',
    });
    assert.deepEqual(credentialDecision([f('aks-c-1', 'https://old/', wanted.subject, true)], wanted, 'id'), {
      kind: 'write',
      replaces: true,
    });
    assert.throws(
      () => credentialDecision([f('AKS-C-1', 'https://other/', 'x', false)], wanted, 'id'),
      /FederatedCredentialConflict|not overwritten/,
    );
    const full = Array.from({ length: 20 }, (_, i) => f(`other-${i}`, 'https://other/', `s${i}`, false));
    assert.throws(
      () => credentialDecision(full, wanted, 'id'),
      (e: any) => e.code === 'FederatedCredentialLimit',
    );
    assert.deepEqual(credentialDecision(full.slice(1), wanted, 'id'), { kind: 'write', replaces: false });
  });
});

describe('workload identity planning (pure)', () => {
  const rulesWith = (options: string) =>
    parseRulesText(
      `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles:
  reader: { roles: [{ role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }] }
rules:
  - name: wi
    identity: { kind: SystemAssigned }
    match: { types: [Microsoft.ContainerService/managedClusters] }
    profiles: [reader]
    workloadIdentity: { serviceAccounts: ["ns/sa"]${options} }
`,
      'wi.yaml',
    );
  const TYPE = 'Microsoft.ContainerService/managedClusters' as const;
  function cluster(
    properties: Record<string, unknown>,
    identity: unknown = { type: 'SystemAssigned', principalId: '00000000-0000-4000-8000-00000000000a' },
  ): ResourceState {
    const body = { identity, properties };
    const id = aks('rg', 'c');
    return {
      id,
      type: TYPE,
      subscriptionId: SUB,
      resourceGroup: 'rg',
      name: 'c',
      location: 'westeurope',
      tags: {},
      identity: readIdentity(identity),
      rawBody: body,
      ...resourceFacts(resourceTypeHandler(TYPE)!, body),
    };
  }
  const planOf = (r: ResourceState, options = '') => {
    const result = planRemediation(r, rulesWith(options));
    assert.equal(result.kind, 'plan', JSON.stringify(result));
    return (result as { plan: Plan }).plan;
  };

  it('only the missing half is enabled: workload identity on a cluster that already has the issuer', () => {
    const p = planOf(
      cluster({ oidcIssuerProfile: { enabled: true, issuerURL: 'https://x.oic.prod-aks.azure.com/t/u/' } }),
      ', enableOnCluster: true',
    );
    assert.deepEqual([p.clusterChange?.enableOidcIssuer, p.clusterChange?.enableWorkloadIdentity], [false, true]);
    assert.deepEqual(p.blockers, []);
    assert.equal(p.workloadIdentities![0]!.credential.issuer, 'https://x.oic.prod-aks.azure.com/t/u/');
  });

  it('a service-principal cluster is never written, even when the rule opts in', () => {
    const p = planOf(
      cluster({ servicePrincipalProfile: { clientId: '5a3f1c2e-0000-4000-8000-000000000001' } }, { type: 'None' }),
      ', enableOnCluster: true',
    );
    assert.deepEqual(
      p.blockers.map((b) => b.code),
      ['ServicePrincipalCluster'],
    );
  });

  it('an enabled issuer without a URL, or with one that is not plain https, is blocked, never trusted', () => {
    const enabled = { securityProfile: { workloadIdentity: { enabled: true } } };
    assert.deepEqual(
      planOf(cluster({ ...enabled, oidcIssuerProfile: { enabled: true } })).blockers.map((b) => b.code),
      ['OidcIssuerUrlMissing'],
    );
    assert.deepEqual(
      planOf(cluster({ ...enabled, oidcIssuerProfile: { enabled: true, issuerURL: 'http://evil.example/' } })).blockers.map((b) => b.code),
      ['OidcIssuerUrlInvalid'],
    );
  });

  it('the identities go to a literal resource group when the rule names one', () => {
    const enabled = {
      securityProfile: { workloadIdentity: { enabled: true } },
      oidcIssuerProfile: { enabled: true, issuerURL: 'https://x/' },
    };
    const p = planOf(cluster(enabled), ', resourceGroup: rg-wi');
    assert.equal(p.workloadIdentities![0]!.identity.resourceGroup, 'rg-wi');
    assert.match(
      p.workloadIdentities![0]!.identity.id,
      /\/resourceGroups\/rg-wi\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/wi-c-ns-sa-[0-9a-f]{12}$/,
    );
  });
});
