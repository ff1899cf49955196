import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { governedResourcesQuery } from '../../src/sweep/queries';
import { ResourceGraphReader, SdkGraphQueryPort } from '../../src/sweep/resource-graph';
import { SyntheticEstate } from '../../tools/arm-emulator/generated-estate';
import { useEmulator } from '../support/emulator-fixture';

const env = useEmulator();

describe('sweep scan: a $skipToken that expires during a quota-paced scan', () => {
  it('resumes the ordered query with $skip and reads every row once, instead of failing the sweep', async () => {
    const emulator = env.emulator;
    const estate = new SyntheticEstate({
      subscriptions: 2,
      resourceGroupsPerSubscription: 2,
      resources: 2000,
      driftPercent: 20,
      tenantId: emulator.state.tenantId,
    });
    estate.addContainersTo(emulator.state);
    emulator.resourceGraph.useGeneratedEstate(estate);
    // Two queries a second, and tokens that live 700 ms: the third page's token has expired when it is sent.
    emulator.resourceGraph.setQuota({ limit: 2, windowMs: 1000 });
    emulator.resourceGraph.cursorTtlMs = 700;
    try {
      const seq = emulator.lastSeq;
      const reader = new ResourceGraphReader(new SdkGraphQueryPort(env.connection(emulator.credentialFor(emulator.appPrincipal))), {
        pageSize: 400,
      });
      const ids: string[] = [];
      const query = governedResourcesQuery({
        resourceTypes: [
          'Microsoft.Web/sites',
          'Microsoft.App/containerApps',
          'Microsoft.Compute/virtualMachines',
          'Microsoft.Compute/virtualMachineScaleSets',
          'Microsoft.ContainerInstance/containerGroups',
        ],
        resourceGroups: ['rg-*'],
      });
      for await (const page of reader.pages(query, estate.subscriptionIds)) for (const r of page) ids.push(String(r.id));
      assert.equal(ids.length, 2000);
      assert.equal(new Set(ids).size, 2000, 'no row twice');
      assert.deepEqual(ids, [...ids].sort(), 'in order across the resumptions');
      assert.ok((reader.stats.resumed ?? 0) >= 1, 'at least one token expired and the scan resumed');
      const rejected = emulator.requestsSince(seq).filter((r) => r.errorCode === 'BadRequest' || r.status === 400);
      assert.equal(rejected.length, reader.stats.resumed, 'one rejected token per resumption, no retry loop');
    } finally {
      emulator.resourceGraph.cursorTtlMs = 10 * 60_000;
      emulator.resourceGraph.useGeneratedEstate(undefined);
    }
  });
});
