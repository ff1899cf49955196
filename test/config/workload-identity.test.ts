import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveAppPermissions } from '../../scripts/infra/permissions';
import { assertRejected, baseRules, load, SUB } from './helpers';

const AKS = 'Microsoft.ContainerService/managedClusters';

/** A rules file whose one rule is an AKS rule with the given `workloadIdentity` section (and overrides). */
function withWorkloadIdentity(section: unknown, rule: Record<string, unknown> = {}) {
  const data = baseRules();
  data.rules = [
    {
      name: 'aks-wi',
      match: { types: [AKS] },
      identity: { kind: 'SystemAssigned' },
      profiles: ['rg-blob-reader'],
      workloadIdentity: section,
      ...rule,
    },
  ];
  return data;
}

describe('rules: workloadIdentity', () => {
  it('loads service accounts as namespace/name, the identities beside the cluster by default, no cluster write unless opted in', () => {
    const rule = load(withWorkloadIdentity({ serviceAccounts: ['orders/orders-api', 'dapr-system/dapr.sidecar-injector'] })).rules[0]!;
    assert.deepEqual(rule.workloadIdentity, {
      serviceAccounts: [
        { namespace: 'orders', name: 'orders-api' },
        { namespace: 'dapr-system', name: 'dapr.sidecar-injector' },
      ],
      resourceGroupTemplate: '{resourceGroup}',
      enableOnCluster: false,
    });
    assert.equal(load(baseRules()).rules[0]!.workloadIdentity, undefined, 'absent unless asked for');
  });

  const bad: Array<[string, unknown, string, RegExp]> = [
    [
      'no namespace',
      { serviceAccounts: ['orders-api'] },
      'rules[0].workloadIdentity.serviceAccounts[0]',
      /<namespace>\/<service account name>/,
    ],
    ['three parts', { serviceAccounts: ['a/b/c'] }, 'rules[0].workloadIdentity.serviceAccounts[0]', /<namespace>\/<service account name>/],
    [
      'an upper-case namespace',
      { serviceAccounts: ['Orders/api'] },
      'rules[0].workloadIdentity.serviceAccounts[0]',
      /not a Kubernetes namespace name/,
    ],
    [
      'a colon in the name (the subject separator)',
      { serviceAccounts: ['orders/api:x'] },
      'rules[0].workloadIdentity.serviceAccounts[0]',
      /not a Kubernetes service account name/,
    ],
    [
      'a wildcard',
      { serviceAccounts: ['orders/*'] },
      'rules[0].workloadIdentity.serviceAccounts[0]',
      /not a Kubernetes service account name/,
    ],
    ['a duplicate', { serviceAccounts: ['a/b', 'a/b'] }, 'rules[0].workloadIdentity.serviceAccounts[1]', /listed twice/],
    ['an empty list', { serviceAccounts: [] }, 'rules[0].workloadIdentity.serviceAccounts', /must not be empty/],
    [
      'a tag choosing the resource group',
      { serviceAccounts: ['a/b'], resourceGroup: '{tag:rg}' },
      'rules[0].workloadIdentity.resourceGroup',
      /a tag cannot choose/,
    ],
    ['an unknown key', { serviceAccounts: ['a/b'], subjects: ['x'] }, 'rules[0].workloadIdentity', /unknown key 'subjects'/],
  ];
  for (const [label, section, keyPath, reason] of bad) {
    it(`refuses ${label}`, () => void assertRejected(() => load(withWorkloadIdentity(section)), keyPath, reason));
  }

  it('is for AKS rules only, whose own identity is left as it is', () => {
    assertRejected(
      () => load(withWorkloadIdentity({ serviceAccounts: ['a/b'] }, { match: { types: ['Microsoft.Web/sites'] } })),
      'rules[0].workloadIdentity',
      /only for AKS/,
    );
    assertRejected(
      () =>
        load(
          withWorkloadIdentity(
            { serviceAccounts: ['a/b'] },
            { identity: { kind: 'UserAssigned', userAssigned: { name: 'id-{resourceName}' } } },
          ),
        ),
      'rules[0].identity',
      /must be \{ kind: SystemAssigned \}/,
    );
  });

  it('infra:params grants the federated credential actions only where identities are created', () => {
    const beside = deriveAppPermissions(
      load(withWorkloadIdentity({ serviceAccounts: ['a/b'] }, { match: { types: [AKS], resourceGroups: ['rg-aks-1', 'rg-aks-2'] } })),
    );
    assert.deepEqual(beside.federatedCredentials.scopes, [
      `/subscriptions/${SUB}/resourceGroups/rg-aks-1`,
      `/subscriptions/${SUB}/resourceGroups/rg-aks-2`,
    ]);
    const central = deriveAppPermissions(load(withWorkloadIdentity({ serviceAccounts: ['a/b'], resourceGroup: 'rg-workload-identities' })));
    assert.deepEqual(central.federatedCredentials.scopes, [`/subscriptions/${SUB}/resourceGroups/rg-workload-identities`]);
    // Identities beside clusters in any group: the subscription is the narrowest scope that covers them.
    assert.deepEqual(deriveAppPermissions(load(withWorkloadIdentity({ serviceAccounts: ['a/b'] }))).federatedCredentials.scopes, [
      `/subscriptions/${SUB}`,
    ]);
    const none = deriveAppPermissions(load(baseRules()));
    assert.deepEqual(none.federatedCredentials, { actions: [], scopes: [] });
    assert.ok(!none.actions.some((a) => a.includes('federatedIdentityCredentials')));
    assert.ok(!central.actions.some((a) => a.includes('federatedIdentityCredentials')), 'never in the subscription-wide engine role');
    const report = deriveAppPermissions(load(withWorkloadIdentity({ serviceAccounts: ['a/b'] }, { mode: 'report' })));
    assert.deepEqual(report.federatedCredentials.actions, [], 'a report rule writes nothing');
  });
});
