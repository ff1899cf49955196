import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArmId } from '../../src/arm/resource-id';
import { evaluateGovernance, withResolvedSubscriptions } from '../../src/config';
import { assertRejected, baseRules, load, OTHER_SUB, SUB } from './helpers';

/** Exemptions are judged at this instant (none of these files' rules have any). */
const NOW = new Date('2026-06-01T00:00:00Z');

const mgRules = (scope: Record<string, unknown>) => ({ ...baseRules(), scope });

describe('rules file: scope.managementGroups', () => {
  it('accepts management groups alone: subscriptions become optional', () => {
    const config = load(mgRules({ managementGroups: ['contoso-landing-zones', 'Corp.(EU)_1'] }));
    assert.deepEqual(config.scope.managementGroups, ['contoso-landing-zones', 'Corp.(EU)_1']);
    assert.deepEqual(config.scope.subscriptions, []);
  });

  it('accepts both lists together', () => {
    const config = load(mgRules({ subscriptions: [SUB], managementGroups: ['mg-apps'] }));
    assert.deepEqual(config.scope.subscriptions, [SUB]);
    assert.deepEqual(config.scope.managementGroups, ['mg-apps']);
  });

  it('needs at least one of the two, and says which keys', () => {
    assertRejected(
      () => load(mgRules({ resourceGroups: ['*'] })),
      'scope.subscriptions',
      /is required unless scope.managementGroups is given/,
    );
  });

  it('refuses an empty list', () => {
    assertRejected(() => load(mgRules({ managementGroups: [] })), 'scope.managementGroups', /must not be empty/);
  });

  // ARM's management group id: 1-90 of letters, digits, '-', '_', '(', ')', '.', not ending in '.'.
  for (const bad of [
    '',
    'ends.with.period.',
    'has space',
    'slash/inside',
    'x'.repeat(91),
    'ünïcode',
    '../root',
    `${'a'.padEnd(45, '.')}*`,
  ]) {
    it(`refuses management group id ${JSON.stringify(bad.slice(0, 30))} with its key path`, () => {
      assertRejected(
        () => load(mgRules({ subscriptions: [SUB], managementGroups: ['ok-group', bad] })),
        'scope.managementGroups[1]',
        /management group id/,
      );
    });
  }

  it('accepts a 90-character id and the tenant root group (a GUID)', () => {
    const config = load(mgRules({ managementGroups: ['a'.repeat(90), '72f988bf-86f1-41af-91ab-2d7cd011db47'] }));
    assert.equal(config.scope.managementGroups!.length, 2);
  });

  it('refuses the same group twice (ids compare case-insensitively)', () => {
    assertRejected(() => load(mgRules({ managementGroups: ['mg-apps', 'MG-Apps'] })), 'scope.managementGroups[1]', /listed twice/);
  });

  it('still refuses a subscription that is not a GUID next to management groups', () => {
    assertRejected(
      () => load(mgRules({ subscriptions: ['prod'], managementGroups: ['mg-apps'] })),
      'scope.subscriptions[0]',
      /subscription id/,
    );
  });

  it('lets a literal grant scope name a subscription only a management group may govern (checked at run time)', () => {
    const raw = mgRules({ managementGroups: ['mg-apps'] });
    raw.profiles['shared-rg'] = { roles: [{ role: 'Reader', scope: `/subscriptions/${OTHER_SUB}/resourceGroups/shared` }] };
    assert.ok(load(raw).profiles.get('shared-rg'));
    // Without management groups the same scope is refused at load.
    const plain = baseRules();
    plain.profiles['shared-rg'] = raw.profiles['shared-rg'];
    assertRejected(() => load(plain), 'profiles.shared-rg.roles[0].scope', /not in scope.subscriptions/);
  });

  it('still refuses a management group as a grant scope', () => {
    const raw = mgRules({ managementGroups: ['mg-apps'] });
    raw.profiles['mg-wide'] = { roles: [{ role: 'Reader', scope: '/providers/Microsoft.Management/managementGroups/mg-apps' }] };
    assertRejected(() => load(raw), 'profiles.mg-wide.roles[0].scope', /management group scope/);
  });

  it('governs a subscription resolved under a group; tagScope.subscriptions are not widened by it', () => {
    const config = load(mgRules({ managementGroups: ['mg-apps'] }));
    const id = parseArmId(`/subscriptions/${OTHER_SUB}/resourceGroups/app-1/providers/Microsoft.Web/sites/web`);
    const before = evaluateGovernance(config, id, { env: 'prod' }, NOW);
    assert.equal(before.governed, false);
    assert.match(!before.governed ? before.detail : '', /nor under scope.managementGroups/);
    const resolved = withResolvedSubscriptions(config, [OTHER_SUB.toUpperCase()]);
    assert.equal(evaluateGovernance(resolved, id, { env: 'prod' }, NOW).governed, true);
    assert.deepEqual(resolved.scope.subscriptions, [OTHER_SUB]);
    // The tag-derived kv-reader profile still defaults to the workload's own subscription only.
    assert.equal(resolved.profiles.get('kv-reader')!.roles[0]!.tagScope!.subscriptions, undefined);
  });
});
