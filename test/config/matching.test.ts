import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArmId } from '../../src/arm/resource-id';
import { evaluateGovernance, globMatches, type Rule, selectProfiles } from '../../src/config';
import { baseRules, load, OTHER_SUB, SUB } from './helpers';

/** Exemptions are judged at this instant (none of these files' rules have any). */
const NOW = new Date('2026-06-01T00:00:00Z');

const site = (rg = 'app-web', sub = SUB) => parseArmId(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Web/sites/web1`);

function configWithTwoRules() {
  const data = baseRules();
  data.scope.resourceGroups = ['app-*', 'data-??'];
  data.scope.resourceTypes = ['Microsoft.Web/sites', 'Microsoft.App/containerApps', 'Microsoft.Compute/virtualMachines'];
  data.rules.push({ name: 'any-app', match: { tags: { team: '*' } }, identity: { kind: 'SystemAssigned' }, mode: 'report' });
  return load(data);
}

describe('globMatches', () => {
  it('supports * and ? case-insensitively and treats other characters literally', () => {
    assert.ok(globMatches('app-*', 'APP-web'));
    assert.ok(globMatches('data-??', 'data-01'));
    assert.ok(!globMatches('data-??', 'data-001'));
    assert.ok(!globMatches('app.(x)', 'appA(x)'));
    assert.ok(globMatches('app.(x)', 'APP.(X)'));
  });
});

describe('evaluateGovernance', () => {
  const config = configWithTwoRules();

  it('picks the first matching rule, comparing tag names and values case-insensitively', () => {
    const decision = evaluateGovernance(config, site(), { ENV: 'Prod', team: 'x' }, NOW);
    assert.equal(decision.governed && decision.rule.name, 'web-apps');
  });

  it('falls through to a later rule when an earlier one does not match', () => {
    const decision = evaluateGovernance(config, site(), { env: 'dev', Team: 'payments' }, NOW);
    assert.ok(decision.governed);
    assert.equal(decision.rule.name, 'any-app');
    assert.equal(decision.rule.mode, 'report');
  });

  const skips: Array<[string, ReturnType<typeof site>, Record<string, string> | undefined, string]> = [
    ['another subscription', site('app-web', OTHER_SUB), { env: 'prod' }, 'subscription-not-governed'],
    ['an ungoverned resource group', site('other-rg'), { env: 'prod' }, 'resource-group-not-governed'],
    ['a glob that needs exactly two characters', site('data-001'), { team: 'x' }, 'resource-group-not-governed'],
    [
      // Deployment slots are catalogued (governed like any type); other children are still skipped.
      'a child resource outside the catalogue',
      parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Web/sites/web1/config/appsettings`),
      { env: 'prod' },
      'child-resource',
    ],
    [
      'a supported but ungoverned type',
      parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.ContainerService/managedClusters/aks`),
      { team: 'x' },
      'type-not-governed',
    ],
    [
      'an unsupported type',
      parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web/providers/Microsoft.Storage/storageAccounts/st`),
      { team: 'x' },
      'type-not-governed',
    ],
    ['a resource group id', parseArmId(`/subscriptions/${SUB}/resourceGroups/app-web`), undefined, 'type-not-governed'],
    ['an opt-out tag with any value', site(), { env: 'prod', 'Identity-Autopilot-OptOut': '' }, 'opted-out'],
    ['no rule matching', site(), { env: 'dev' }, 'no-matching-rule'],
    ['no tags at all', site(), undefined, 'no-matching-rule'],
  ];
  for (const [what, id, tags, reason] of skips) {
    it(`skips ${what} with reason ${reason}`, () => {
      const decision = evaluateGovernance(config, id, tags, NOW);
      assert.equal(decision.governed, false);
      assert.equal(!decision.governed && decision.reason, reason);
      assert.ok(!decision.governed && decision.detail.length > 0);
    });
  }

  it('does not opt out when the opt-out tag says "false"', () => {
    const decision = evaluateGovernance(config, site(), { env: 'prod', 'identity-autopilot-optout': 'FALSE' }, NOW);
    assert.ok(decision.governed);
  });

  it('matches a VM in a governed group only through rules whose types include it', () => {
    const vm = parseArmId(`/subscriptions/${SUB}/resourceGroups/app-x/providers/microsoft.compute/VIRTUALMACHINES/vm1`);
    const decision = evaluateGovernance(config, vm, { env: 'prod', team: 'x' }, NOW);
    assert.equal(decision.governed && decision.rule.name, 'any-app');
  });
});

describe('selectProfiles', () => {
  const data = baseRules();
  data.profiles.extra = { roles: [{ role: 'Reader', scope: '{resourceId}' }] };
  const config = load(data);
  const rule: Rule = config.rules[0]!;
  const names = (s: ReturnType<typeof selectProfiles>) => (s.ok ? s.profiles.map((p) => p.name) : s);

  it('always includes the rule profiles', () => {
    assert.deepEqual(names(selectProfiles(config, rule, undefined)), ['kv-reader']);
  });

  it('adds tag-selectable profiles named in the profile tag, deduplicated and in order', () => {
    const tags = { 'IDENTITY-AUTOPILOT-PROFILES': ' rg-blob-reader , kv-reader,,rg-blob-reader' };
    assert.deepEqual(names(selectProfiles(config, rule, tags)), ['kv-reader', 'rg-blob-reader']);
  });

  it('refuses a tag naming an undefined profile', () => {
    const result = selectProfiles(config, rule, { 'identity-autopilot-profiles': 'rg-blob-reader,kv-writer' });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.code, 'UnknownProfile');
    assert.match(!result.ok ? result.detail : '', /kv-writer/);
  });

  it('refuses a tag naming a defined profile the rule does not make selectable', () => {
    const result = selectProfiles(config, rule, { 'identity-autopilot-profiles': 'extra' });
    assert.equal(!result.ok && result.code, 'ProfileNotSelectable');
  });

  it('cannot reach Owner through a crafted profile name', () => {
    for (const crafted of [
      'Owner',
      '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
      '/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    ]) {
      const byTag = selectProfiles(config, rule, { 'identity-autopilot-profiles': crafted });
      assert.equal(!byTag.ok && byTag.code, 'UnknownProfile', crafted);
      const byRequest = selectProfiles(config, rule, undefined, [crafted]);
      assert.equal(!byRequest.ok && byRequest.code, 'UnknownProfile', crafted);
    }
  });

  it('lets an HTTP caller request only profiles the rule names', () => {
    assert.deepEqual(names(selectProfiles(config, rule, undefined, ['rg-blob-reader', 'kv-reader'])), ['kv-reader', 'rg-blob-reader']);
    const result = selectProfiles(config, rule, undefined, ['extra']);
    assert.equal(!result.ok && result.code, 'ProfileNotSelectable');
  });

  it('compares profile names exactly', () => {
    const result = selectProfiles(config, rule, { 'identity-autopilot-profiles': 'RG-BLOB-READER' });
    assert.equal(!result.ok && result.code, 'UnknownProfile');
  });
});
