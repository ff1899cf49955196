import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesText } from '../../src/config';
import { GovernedSubscriptions } from '../../src/engine/governed-subscriptions';

const LISTED = '66666666-6666-4666-8666-666666666666';
const UNDER = '77777777-7777-4777-8777-777777777777';
const rules = parseRulesText(
  `
version: 1
scope: { subscriptions: ["${LISTED}"], managementGroups: ["mg-apps"] }
profiles: {}
rules:
  - name: all
    identity: { kind: SystemAssigned }
`,
  'mg-unit-test.yaml',
);

describe('governed subscriptions: management groups resolved through ARM, cached for a TTL', () => {
  it('a listed subscription needs no call; another is resolved once per TTL and shared by concurrent callers', async () => {
    let now = 0;
    let calls = 0;
    const port = { subscriptionsUnder: async () => (calls++, [UNDER.toUpperCase()]) };
    const governed = new GovernedSubscriptions(rules, port, { ttlMs: 1000, now: () => now });
    await governed.configFor(LISTED, AbortSignal.timeout(1000));
    assert.equal(calls, 0);
    assert.equal(governed.undecided(UNDER), true);
    await Promise.all([governed.configFor(UNDER, AbortSignal.timeout(1000)), governed.configFor(UNDER, AbortSignal.timeout(1000))]);
    assert.equal(calls, 1);
    assert.equal(governed.undecided(UNDER), false);
    assert.ok((await governed.underManagementGroups(AbortSignal.timeout(1000))).has(UNDER));
    now = 1000;
    await governed.configFor(UNDER, AbortSignal.timeout(1000));
    assert.equal(calls, 2, 'an expired resolution is never used');
  });

  it('without a port the rules that name management groups cannot be resolved', async () => {
    await assert.rejects(
      new GovernedSubscriptions(rules, undefined).resolved(AbortSignal.timeout(1000)),
      (e: { code?: string }) => e.code === 'ManagementGroupsNotSupported',
    );
  });
});
