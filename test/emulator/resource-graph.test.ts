import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { governedResourcesQuery } from '../../src/sweep/queries';
import { ResourceGraphReader, SdkGraphQueryPort } from '../../src/sweep/resource-graph';
import { ROLE } from '../../tools/arm-emulator';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import { SUB_A, SUB_B, useEmulator } from '../support/emulator-fixture';
import { rawArm } from '../support/raw-arm';

const env = useEmulator({ subscriptions: [SUB_A, SUB_B] });
const PATH = '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01';
const SITES = { resourceTypes: ['Microsoft.Web/sites' as const], resourceGroups: ['rg-*'] };

function graphCalls(fromSeq: number) {
  return env.emulator.requestsSince(fromSeq).filter((r) => /resourcegraph/i.test(r.path));
}

describe('emulator: Azure Resource Graph', () => {
  before(() => {
    for (let i = 0; i < 2500; i++) {
      seedResource(env.emulator.state, {
        subscriptionId: i % 2 ? SUB_A : SUB_B,
        resourceGroup: `rg-${i % 7}`,
        type: SEED_TYPES.webApp,
        name: `site-${String(i).padStart(4, '0')}`,
      });
    }
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'other', type: SEED_TYPES.webApp, name: 'outside' });
    seedResource(env.emulator.state, { subscriptionId: SUB_A, resourceGroup: 'rg-1', type: SEED_TYPES.virtualMachine, name: 'vm-1' });
  });
  beforeEach(() => env.emulator.resourceGraph.setQuota({ limit: 1000, windowMs: 1000 }));

  it('pages the project query with $skipToken, 1000 rows a page: calls = ceil(rows / 1000), through the real SDK', async () => {
    const seq = env.emulator.lastSeq;
    const checkedBefore = env.emulator.specs.checked;
    const reader = new ResourceGraphReader(new SdkGraphQueryPort(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal))));
    const ids: string[] = [];
    const pageSizes: number[] = [];
    for await (const page of reader.pages(governedResourcesQuery(SITES), [SUB_A, SUB_B])) {
      pageSizes.push(page.length);
      for (const row of page) {
        assert.equal(row.type, 'microsoft.web/sites');
        assert.deepEqual(Object.keys(row), [
          'id',
          'name',
          'type',
          'location',
          'resourceGroup',
          'subscriptionId',
          'subscriptionName',
          'tags',
          'identity',
          'managedBy',
          'resourceGroupManagedBy',
        ]);
        ids.push(String(row.id));
      }
    }
    assert.deepEqual(pageSizes, [1000, 1000, 500]);
    assert.equal(new Set(ids).size, 2500);
    assert.deepEqual(ids, [...ids].sort(), 'ordered by id, stable across pages');
    assert.equal(graphCalls(seq).length, Math.ceil(2500 / 1000));
    assert.equal(reader.stats.calls, 3);
    await env.emulator.specViolations();
    assert.ok(env.emulator.specs.checked - checkedBefore >= 3, 'every Resource Graph answer was checked against resourcegraph.json');
  });

  it('honours $top and the subscriptions of the request', async () => {
    const r = await rawArm(env.emulator, 'POST', PATH, {
      body: { subscriptions: [SUB_A], query: governedResourcesQuery(SITES), options: { $top: 7 } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.count, 7);
    assert.equal(r.json.totalRecords, 1250);
    assert.equal(r.json.resultTruncated, 'false');
    assert.ok(r.json.$skipToken);
    assert.ok(r.json.data.every((row: { subscriptionId: string }) => row.subscriptionId === SUB_A));
  });

  it('exposes role assignments as authorizationresources with the real shape', async () => {
    const a = env.emulator.state.grant({
      principalId: '6d7e8f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
      roleDefinitionGuid: ROLE.reader,
      scope: `/subscriptions/${SUB_B}/resourceGroups/rg-1`,
    });
    const query =
      "authorizationresources\n| where type =~ 'microsoft.authorization/roleassignments' and tostring(properties.principalId) in~ ('6D7E8F90-1A2B-4C3D-8E4F-5A6B7C8D9E0F')";
    const r = await rawArm(env.emulator, 'POST', PATH, { body: { subscriptions: [SUB_A, SUB_B], query } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.count, 1);
    const row = r.json.data[0];
    assert.equal(row.id, a.id);
    assert.equal(row.type, 'microsoft.authorization/roleassignments');
    assert.equal(row.subscriptionId, SUB_B);
    assert.equal(row.properties.principalId, a.principalId);
    assert.equal(row.properties.scope, a.scope);
    assert.equal(
      row.properties.roleDefinitionId,
      `/subscriptions/${SUB_B}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.reader}`,
    );
    const other = await rawArm(env.emulator, 'POST', PATH, { body: { subscriptions: [SUB_A], query } });
    assert.equal(other.json.count, 0, 'only the subscriptions asked for');
  });

  it('evaluates has, =~, !in~, isnotempty, tolower, extend and order by desc', async () => {
    const query = [
      'resources',
      "| where type =~ 'Microsoft.Web/SITES' and name has 'site' and resourceGroup !in~ ('rg-0', 'rg-2', 'rg-3', 'rg-4', 'rg-5', 'rg-6') and isnotempty(location)",
      '| extend n = tolower(name)',
      '| project n, resourceGroup',
      '| order by n desc',
      '| take 3',
    ].join('\n');
    const r = await rawArm(env.emulator, 'POST', PATH, { body: { subscriptions: [SUB_A, SUB_B], query } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.data, [
      { n: 'site-2493', resourceGroup: 'rg-1' },
      { n: 'site-2486', resourceGroup: 'rg-1' },
      { n: 'site-2479', resourceGroup: 'rg-1' },
    ]);
  });

  it("rejects an operator it does not run, and a syntax error, in Resource Graph's error format", async () => {
    for (const [query, detail] of [
      ['resources | distinct type', 'UnsupportedOperator'],
      ['resources | where type =~ ', 'ParserFailure'],
      ['securityresources | take 1', 'UnknownTable'],
    ] as const) {
      const r = await rawArm(env.emulator, 'POST', PATH, { body: { subscriptions: [SUB_A], query } });
      assert.equal(r.status, 400, query);
      assert.equal(r.json.error.code, 'BadRequest');
      assert.equal(r.json.error.details[0].code, 'InvalidQuery');
      assert.ok(
        r.json.error.details.some((d: { code: string }) => d.code === detail),
        JSON.stringify(r.json),
      );
    }
  });

  it('sends the quota headers and answers 429 once the window is used up', async () => {
    env.emulator.resourceGraph.setQuota({ limit: 3, windowMs: 2000 });
    const body = { subscriptions: [SUB_A], query: 'resources | take 1' };
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await rawArm(env.emulator, 'POST', PATH, { body });
      assert.equal(r.status, 200);
      remaining.push(String(r.headers['x-ms-user-quota-remaining']));
      assert.match(String(r.headers['x-ms-user-quota-resets-after']), /^00:00:0[0-2]$/);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const r = await rawArm(env.emulator, 'POST', PATH, { body });
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 'RateLimiting');
    assert.equal(r.headers['x-ms-user-quota-remaining'], '0');
  });

  it('the reader waits for the quota window instead of failing', async () => {
    env.emulator.resourceGraph.setQuota({ limit: 2, windowMs: 1000 });
    const throttledBefore = env.emulator.resourceGraph.throttled;
    const reader = new ResourceGraphReader(new SdkGraphQueryPort(env.connection(env.emulator.credentialFor(env.emulator.appPrincipal))), {
      pageSize: 500,
    });
    const started = Date.now();
    let rows = 0;
    for await (const page of reader.pages(governedResourcesQuery(SITES), [SUB_A, SUB_B])) rows += page.length;
    assert.equal(rows, 2500);
    assert.equal(reader.stats.calls, 5, 'no call failed: the reader paused when remaining hit 0');
    assert.ok(reader.stats.quotaWaits >= 2);
    assert.ok(Date.now() - started >= 1500, 'five calls at two a second span two resets');
    assert.equal(env.emulator.resourceGraph.throttled, throttledBefore, 'proactive waits: no 429 at all');
  });
});
