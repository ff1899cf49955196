import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFacts, resourceTypeHandler } from '../../src/azure/resource-types';
import { parseRulesText, type SupportedResourceType } from '../../src/config';
import { roleAssignmentName } from '../../src/engine/assignment-name';
import { readIdentity } from '../../src/engine/identity-state';
import { planRemediation } from '../../src/engine/plan';
import type { ResourceState } from '../../src/engine/types';

const SUB = '33333333-3333-4333-8333-333333333333';
const rules = parseRulesText(
  `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles:
  reader:
    roles: [{ role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }]
  reader-again:
    roles: [{ role: acdd72a7-3385-48ef-bd42-f606fba81ae7, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }]
  vault:
    roles: [{ role: Key Vault Secrets User, scope: "{tag:kv-id}", tagScope: { resourceTypes: [Microsoft.KeyVault/vaults], resourceGroups: ["*"] } }]
rules:
  - name: ua
    match: { resourceGroups: ["rg-ua"] }
    identity: { kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }
    profiles: [reader]
  - name: report
    match: { resourceGroups: ["rg-report"] }
    identity: { kind: SystemAssigned }
    mode: report
  - name: default
    identity: { kind: SystemAssigned }
    profiles: [reader, reader-again]
    tagSelectableProfiles: [vault]
`,
  'plan-test.yaml',
);

/** A resource as the resource port reads it: the type's module supplies the facts from the body. */
function resource(
  type: SupportedResourceType,
  rg: string,
  name: string,
  identity?: unknown,
  tags: Record<string, string> = {},
  properties: Record<string, unknown> = {},
): ResourceState {
  const id = `/subscriptions/${SUB}/resourceGroups/${rg}/providers/${type}/${name}`;
  const body = { identity, properties };
  return {
    id,
    type,
    subscriptionId: SUB,
    resourceGroup: rg,
    name,
    location: 'westeurope',
    tags,
    identity: readIdentity(identity),
    rawBody: body,
    ...resourceFacts(resourceTypeHandler(type)!, body),
  };
}

const UA1 = `/subscriptions/${SUB}/resourceGroups/rg-x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/existing`;

function plan(r: ResourceState, requested?: string[]) {
  const result = planRemediation(r, rules, { requestedProfiles: requested });
  assert.equal(result.kind, 'plan', JSON.stringify(result));
  return (result as Extract<typeof result, { kind: 'plan' }>).plan;
}

function aksRules(aksPrincipal: 'kubelet' | 'cluster', kind: 'SystemAssigned' | 'UserAssigned' = 'SystemAssigned') {
  const identity =
    kind === 'SystemAssigned' ? '{ kind: SystemAssigned }' : '{ kind: UserAssigned, userAssigned: { name: "id-{resourceName}" } }';
  return parseRulesText(
    `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles:
  reader:
    roles: [{ role: Reader, scope: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" }]
rules:
  - name: aks
    identity: ${identity}
    profiles: [reader]
    workload: { aksPrincipal: ${aksPrincipal} }
`,
    'aks-plan-test.yaml',
  );
}

const KUBELET = {
  resourceId: `/subscriptions/${SUB}/resourceGroups/MC_rg-a_aks_westeurope/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool`,
  clientId: 'kubelet-client',
  objectId: 'kubelet-object',
};
const MI_CLUSTER = {
  identity: { type: 'SystemAssigned', principalId: 'cluster-pid' },
  properties: { servicePrincipalProfile: { clientId: 'msi' }, identityProfile: { kubeletidentity: KUBELET } },
};
const SP_CLUSTER = { identity: undefined, properties: { servicePrincipalProfile: { clientId: '5a3f1c2e-0000-4000-8000-000000000001' } } };

function planAks(cluster: { identity?: unknown; properties: Record<string, unknown> }, rulesConfig: ReturnType<typeof aksRules>) {
  const result = planRemediation(
    resource('Microsoft.ContainerService/managedClusters', 'rg-a', 'aks', cluster.identity, {}, cluster.properties),
    rulesConfig,
  );
  assert.equal(result.kind, 'plan', JSON.stringify(result));
  return (result as Extract<typeof result, { kind: 'plan' }>).plan;
}

describe('planRemediation: AKS principals (facts from the type module, never the type name)', () => {
  it('grants the kubelet identity (what pods use) by default, and writes nothing to the cluster', () => {
    const p = planAks(MI_CLUSTER, aksRules('kubelet'));
    assert.equal(p.identity.action, 'none');
    assert.equal(p.userAssignedIdentity, undefined);
    assert.deepEqual(p.principal, { kind: 'existing', principalId: 'kubelet-object', identity: 'UserAssigned' });
    assert.deepEqual(p.grantee, {
      role: 'kubelet',
      objectId: 'kubelet-object',
      clientId: 'kubelet-client',
      identityId: KUBELET.resourceId,
    });
    assert.deepEqual(p.blockers, []);
  });

  it('grants the control-plane identity when the rule says aksPrincipal: cluster', () => {
    const p = planAks(MI_CLUSTER, aksRules('cluster'));
    assert.equal(p.identity.action, 'none');
    assert.deepEqual(p.principal, { kind: 'existing', principalId: 'cluster-pid', identity: 'SystemAssigned' });
    assert.deepEqual(p.grantee, { role: 'cluster', objectId: 'cluster-pid' });
  });

  it('blocks a service-principal cluster whichever principal the rule chooses: it is never migrated', () => {
    for (const choice of ['kubelet', 'cluster'] as const) {
      const p = planAks(SP_CLUSTER, aksRules(choice));
      assert.deepEqual(
        p.blockers.map((b) => b.code),
        ['ServicePrincipalCluster'],
        choice,
      );
      assert.match(p.blockers[0]!.remedy ?? '', /node-image/);
    }
  });

  it('switches a system-assigned control plane to the user-assigned identity a cluster rule names (the one AKS write)', () => {
    const p = planAks(MI_CLUSTER, aksRules('cluster', 'UserAssigned'));
    const uaId = `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aks`;
    assert.deepEqual(p.identity.action === 'write' && p.identity.to, { type: 'UserAssigned', userAssignedIdentities: { [uaId]: {} } });
    assert.deepEqual(p.grantee, { role: 'cluster', objectId: undefined, clientId: undefined, identityId: uaId });
    assert.ok(p.notes.some((n) => /If-Match/.test(n)));
  });

  it('a kubelet rule never touches the cluster identity, even when the rule names a user-assigned identity', () => {
    const p = planAks(MI_CLUSTER, aksRules('kubelet', 'UserAssigned'));
    assert.equal(p.identity.action, 'none');
    assert.equal(p.userAssignedIdentity, undefined);
    assert.equal(p.grantee?.role, 'kubelet');
  });
});

describe('planRemediation (pure)', () => {
  it('adds the system-assigned identity and keeps every user-assigned one', () => {
    const p = plan(
      resource('Microsoft.Web/sites', 'rg-a', 'web', { type: 'UserAssigned', userAssignedIdentities: { [UA1]: { principalId: 'p' } } }),
    );
    assert.deepEqual(p.identity, {
      action: 'write',
      from: 'UserAssigned',
      to: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [UA1]: {} } },
      reason: 'enable the system-assigned identity',
    });
    assert.deepEqual(p.principal, { kind: 'system-assigned-after-write' });
  });

  it('plans no identity change when the system-assigned identity exists, and names its principal', () => {
    const p = plan(resource('Microsoft.Compute/virtualMachines', 'rg-a', 'vm', { type: 'SystemAssigned', principalId: 'pid-1' }));
    assert.equal(p.identity.action, 'none');
    assert.deepEqual(p.principal, { kind: 'existing', principalId: 'pid-1', identity: 'SystemAssigned' });
  });

  it('leaves an AKS cluster that has a user-assigned identity alone (one identity kind at a time)', () => {
    const p = planRemediation(
      resource('Microsoft.ContainerService/managedClusters', 'rg-a', 'aks', {
        type: 'UserAssigned',
        userAssignedIdentities: { [UA1]: { principalId: 'ua-pid' } },
      }),
      aksRules('cluster', 'SystemAssigned'),
    );
    assert.equal(p.kind, 'plan');
    const plan = (p as Extract<typeof p, { kind: 'plan' }>).plan;
    assert.equal(plan.identity.action, 'none');
    assert.deepEqual(plan.principal, { kind: 'existing', principalId: 'ua-pid', identity: 'UserAssigned' });
    assert.deepEqual(plan.grantee, { role: 'cluster', objectId: 'ua-pid', clientId: undefined, identityId: UA1 });
  });

  it('ensures and attaches the user-assigned identity a rule names, next to a system-assigned one', () => {
    const p = plan(resource('Microsoft.App/containerApps', 'rg-ua', 'orders', { type: 'SystemAssigned', principalId: 'sys' }));
    const uaId = `/subscriptions/${SUB}/resourceGroups/rg-ua/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders`;
    assert.deepEqual(p.userAssignedIdentity, {
      action: 'ensure',
      id: uaId,
      subscriptionId: SUB,
      resourceGroup: 'rg-ua',
      name: 'id-orders',
      location: 'westeurope',
      rule: 'ua',
      owner: `/subscriptions/${SUB}/resourceGroups/rg-ua/providers/Microsoft.App/containerApps/orders`,
    });
    assert.deepEqual(p.identity.action === 'write' && p.identity.to, {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [uaId]: {} },
    });
    assert.deepEqual(p.principal, { kind: 'user-assigned', identityId: uaId });
  });

  it('needs nothing for an identity that is already attached (ids compared case-insensitively)', () => {
    const uaId = `/subscriptions/${SUB}/resourcegroups/rg-ua/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID-ORDERS`;
    const p = plan(
      resource('Microsoft.App/containerApps', 'rg-ua', 'orders', {
        type: 'UserAssigned',
        userAssignedIdentities: { [uaId]: { principalId: 'ua' } },
      }),
    );
    assert.equal(p.identity.action, 'none');
    assert.equal(p.userAssignedIdentity, undefined);
  });

  it('deduplicates the same grant named twice (by name and by GUID)', () => {
    const p = plan(resource('Microsoft.Web/sites', 'rg-a', 'web'));
    assert.equal(p.roleAssignments.length, 1);
    assert.equal(p.roleAssignments[0]!.roleDefinitionGuid, 'acdd72a7-3385-48ef-bd42-f606fba81ae7');
  });

  it('carries report mode from the rule', () => {
    assert.equal(plan(resource('Microsoft.Web/sites', 'rg-report', 'web')).mode, 'report');
  });

  it('a tag may add only tag-selectable profiles, and never an undefined one such as Owner', () => {
    const vault = `/subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv`;
    const ok = plan(resource('Microsoft.Web/sites', 'rg-a', 'web', undefined, { 'identity-autopilot-profiles': 'vault', 'kv-id': vault }));
    assert.ok(ok.roleAssignments.some((r) => r.scope === vault));
    const owner = planRemediation(
      resource('Microsoft.Web/sites', 'rg-a', 'web', undefined, { 'identity-autopilot-profiles': 'Owner' }),
      rules,
    );
    assert.deepEqual([owner.kind, owner.kind === 'invalid' && owner.code], ['invalid', 'UnknownProfile']);
    const caller = planRemediation(resource('Microsoft.Web/sites', 'rg-ua', 'web'), rules, { requestedProfiles: ['vault'] });
    assert.deepEqual([caller.kind, caller.kind === 'invalid' && caller.code], ['invalid', 'ProfileNotSelectable']);
  });

  it('an unresolvable scope template makes the plan invalid for that resource, not a crash', () => {
    const r = planRemediation(resource('Microsoft.Web/sites', 'rg-a', 'web', undefined, { 'identity-autopilot-profiles': 'vault' }), rules);
    assert.deepEqual([r.kind, r.kind === 'invalid' && r.code], ['invalid', 'ScopeTemplateUnresolved']);
  });

  it('skips what is not governed, with the reason', () => {
    const other = {
      ...resource('Microsoft.Web/sites', 'rg-a', 'web'),
      id: `/subscriptions/44444444-4444-4444-8444-444444444444/resourceGroups/rg-a/providers/Microsoft.Web/sites/web`,
    };
    const r = planRemediation(other, rules);
    assert.deepEqual([r.kind, r.kind === 'skip' && r.reason], ['skip', 'subscription-not-governed']);
  });
});

describe("type blockers and the rule's consent", () => {
  const restart = { code: 'RestartNotAllowed', detail: 'the write restarts the workload', waivedBy: 'allowRestart' as const };
  const secret = { code: 'RequiresRedeploy', detail: 'write-only secrets' };
  const consenting = parseRulesText(
    `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles: {}
rules:
  - name: restart-ok
    identity: { kind: SystemAssigned }
    workload: { allowRestart: true }
`,
    'consent.yaml',
  );
  const aci = (blockers: ResourceState['blockers'], identity?: unknown) => ({
    ...resource('Microsoft.ContainerInstance/containerGroups', 'rg-a', 'aci', identity),
    blockers,
  });

  it('a blocker waived by allowRestart stays without the consent and is lifted with it; other blockers stay', () => {
    assert.deepEqual(plan(aci([restart])).blockers, [restart]);
    const consented = planRemediation(aci([restart, secret]), consenting);
    assert.equal(consented.kind, 'plan');
    assert.deepEqual(consented.kind === 'plan' && consented.plan.blockers, [secret]);
  });

  it('no identity write, no blockers: roles for an identity the resource has need no write to it', () => {
    assert.deepEqual(plan(aci([restart, secret], { type: 'SystemAssigned', principalId: 'p-1' })).blockers, []);
  });
});

describe('roleAssignmentName', () => {
  it('is a stable UUID v5 of scope, principal and role, whatever the casing', () => {
    const a = roleAssignmentName('/subscriptions/X/resourceGroups/RG', 'ABC', 'ROLE');
    assert.equal(a, roleAssignmentName('/subscriptions/x/resourcegroups/rg', 'abc', 'role'));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, roleAssignmentName('/subscriptions/x/resourcegroups/rg', 'abc', 'other-role'));
  });

  it("a platform-managed resource (its own managedBy, or its group's) is skipped before any rule is matched", () => {
    const managed = {
      ...resource('Microsoft.Compute/virtualMachineScaleSets', 'rg-a', 'pool'),
      managedBy: '/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerService/managedClusters/aks',
    };
    assert.deepEqual(planRemediation(managed, rules).kind === 'skip' && planRemediation(managed, rules), {
      kind: 'skip',
      reason: 'platform-managed',
      detail:
        "the resource is managed by '/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerService/managedClusters/aks' (managedBy is set); changes belong to that service",
    });
    const inGroup = { ...resource('Microsoft.Web/sites', 'MC_rg_aks_westeurope', 'web'), resourceGroupManagedBy: 'aks' };
    const result = planRemediation(inGroup, rules);
    assert.equal(result.kind === 'skip' && result.reason, 'platform-managed');
  });

  it("lists the type's follow-up after an identity write, run only when the rule opts in; none without a write", () => {
    const need = {
      code: 'UpgradeInstances',
      optIn: 'upgradeInstances' as const,
      detail: 'instances keep the old model',
      remedy: 'upgrade them',
    };
    const withNeed = (identity?: unknown) => ({
      ...resource('Microsoft.Compute/virtualMachineScaleSets', 'rg-a', 'vmss', identity),
      followUp: need,
    });
    assert.deepEqual(plan(withNeed()).followUps, [{ ...need, run: false }]);
    const optedIn = parseRulesText(
      `
version: 1
scope: { subscriptions: ["${SUB}"] }
profiles: {}
rules:
  - name: sets
    identity: { kind: SystemAssigned }
    workload: { upgradeInstances: true }
`,
      'opt-in.yaml',
    );
    const result = planRemediation(withNeed(), optedIn);
    assert.deepEqual(result.kind === 'plan' && result.plan.followUps, [{ ...need, run: true }]);
    // No write: the step may still be owed from an earlier write, so it is kept as a read-only check
    // (pending only if the resource shows it needed); an opted-in step is kept for the port to check.
    assert.deepEqual(plan(withNeed({ type: 'SystemAssigned', principalId: 'p' })).followUps, [{ ...need, run: false, onlyIfNeeded: true }]);
    const noWrite = planRemediation(withNeed({ type: 'SystemAssigned', principalId: 'p' }), optedIn);
    assert.deepEqual(noWrite.kind === 'plan' && noWrite.plan.followUps, [{ ...need, run: true }]);
  });
});
