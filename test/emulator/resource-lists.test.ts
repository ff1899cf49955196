import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator';
import { grantAppOwner } from '../support/app-fixture';
import { SUB_A, useEmulator } from '../support/emulator-fixture';

const env = useEmulator();

async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

describe('emulator: Resources_List and Resources_ListByResourceGroup (what az resource list calls; issue 24 D8)', () => {
  it('lists the resources of a group, by $filter or by path; an unsupported filter is refused, not ignored', async () => {
    grantAppOwner(env.emulator);
    const web = seedResource(env.emulator.state, {
      subscriptionId: SUB_A,
      resourceGroup: 'rg-list',
      type: SEED_TYPES.webApp,
      name: 'app-listed',
    });
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-other', type: SEED_TYPES.webApp, name: 'app-elsewhere' });
    const resources = env.clients(undefined, SUB_A).resources.resources;
    const byFilter = await all(resources.list({ filter: "resourceGroup eq 'RG-LIST'", expand: 'provisioningState' }));
    assert.deepEqual(
      byFilter.map((r) => [r.id, r.type, r.provisioningState]),
      [[web, 'Microsoft.Web/sites', 'Succeeded']],
    );
    const byPath = await all(resources.listByResourceGroup('rg-list'));
    assert.deepEqual(
      byPath.map((r) => r.name),
      ['app-listed'],
    );
    await assert.rejects(all(resources.list({ filter: "substringof('app', name)" })), {
      statusCode: 400,
      code: 'InvalidFilterInQueryString',
    });
    await assert.rejects(all(resources.listByResourceGroup('rg-missing')), { statusCode: 404, code: 'ResourceGroupNotFound' });
  });
});
