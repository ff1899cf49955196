import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { governedResourcesQuery, roleAssignmentsOfPrincipalsQuery } from '../../src/sweep/queries';
import { ResourceGraphReader, SdkGraphQueryPort } from '../../src/sweep/resource-graph';
import { type GeneratedEstate, SyntheticEstate } from '../../tools/arm-emulator/generated-estate';
import { key } from '../../tools/arm-emulator/state';
import { useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator();
const PATH = '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01';
const SCOPE = {
  resourceTypes: [
    'Microsoft.Web/sites',
    'Microsoft.App/containerApps',
    'Microsoft.Compute/virtualMachines',
    'Microsoft.Compute/virtualMachineScaleSets',
    'Microsoft.ContainerInstance/containerGroups',
  ] as const,
  resourceGroups: ['rg-*'],
};

async function readAll(query: string, subscriptions: string[], pageSize: number) {
  const reader = new ResourceGraphReader(new SdkGraphQueryPort(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal))), {
    pageSize,
  });
  const rows: Array<Record<string, unknown>> = [];
  const pages: number[] = [];
  for await (const page of reader.pages(query, subscriptions)) {
    pages.push(page.length);
    rows.push(...page);
  }
  return { rows, pages };
}

describe('emulator: Resource Graph over a generated estate', () => {
  it('pages a generated estate exactly as the same resources stored in the state, holding one page at a time', async () => {
    const emulator = env.emulator;
    emulator.resourceGraph.setQuota(undefined);
    const estate = new SyntheticEstate({
      subscriptions: 3,
      resourceGroupsPerSubscription: 4,
      resources: 120,
      driftPercent: 20,
      tenantId: emulator.state.tenantId,
    });
    estate.addContainersTo(emulator.state);
    const subs = estate.subscriptionIds;
    const query = governedResourcesQuery({ ...SCOPE, resourceTypes: [...SCOPE.resourceTypes] });

    emulator.resourceGraph.useGeneratedEstate(estate);
    const lazy = await readAll(query, subs, 17);
    const principals = lazy.rows.map((r) => (r.identity as { principalId?: string } | null)?.principalId).filter((p): p is string => !!p);
    const lazyGrants = await readAll(roleAssignmentsOfPrincipalsQuery(principals), subs, 1000);
    const partial = await readAll(query, subs.slice(1), 1000);

    // The same estate, materialized: the emulator's ordinary path over stored resources.
    emulator.resourceGraph.useGeneratedEstate(undefined);
    for (const r of estate.resources(0)) emulator.state.resources.set(key(r.id), r);
    for (const a of estate.roleAssignmentsOf(principals)) emulator.state.roleAssignments.set(key(a.id), a);
    const stored = await readAll(query, subs, 17);
    const storedGrants = await readAll(roleAssignmentsOfPrincipalsQuery(principals), subs, 1000);

    assert.equal(lazy.rows.length, 120);
    assert.deepEqual(lazy.pages, [17, 17, 17, 17, 17, 17, 17, 1]);
    assert.deepEqual(lazy.rows, stored.rows, 'same rows, same order, same columns (the join with resourcecontainers included)');
    assert.deepEqual(lazyGrants.rows, storedGrants.rows);
    assert.equal(partial.rows.length, 80, "only the request's subscriptions");
    // 20 % drift: 24 resources, a third never remediated, a third identity removed: 16 without identity.
    assert.equal(principals.length, 120 - 16);
    assert.equal(lazyGrants.rows.length, 2 * 104 - 8, 'the third whose resource-scope grant was deleted holds one');
  });

  it('totalRecords counts the whole result; an estate out of the query order fails loudly instead of paging wrongly', async () => {
    const emulator = env.emulator;
    emulator.resourceGraph.setQuota(undefined);
    const estate = new SyntheticEstate({
      subscriptions: 2,
      resourceGroupsPerSubscription: 2,
      resources: 40,
      driftPercent: 20,
      tenantId: emulator.state.tenantId,
    });
    const query = governedResourcesQuery({ ...SCOPE, resourceTypes: [...SCOPE.resourceTypes] });
    emulator.resourceGraph.useGeneratedEstate(estate);
    const r = await rawArm(emulator, 'POST', PATH, { body: { subscriptions: estate.subscriptionIds, query, options: { $top: 5 } } });
    assert.equal(r.status, 200);
    assert.equal(r.json.totalRecords, 40);
    assert.equal(r.json.count, 5);

    const reversed: GeneratedEstate = {
      size: 40,
      resources: (from) => [...estate.resources(0)].reverse().slice(from),
      roleAssignmentsOf: () => [],
    };
    emulator.resourceGraph.useGeneratedEstate(reversed);
    const bad = await rawArm(emulator, 'POST', PATH, { body: { subscriptions: estate.subscriptionIds, query, options: { $top: 5 } } });
    assert.equal(bad.status, 500);
    assert.equal(bad.json.error.code, 'EmulatorEstateOrder');
    emulator.resourceGraph.useGeneratedEstate(undefined);
  });
});
