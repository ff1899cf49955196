import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIFECYCLE, lifecycleOf, parseRulesText, revokeModeOf } from '../../src/config';

const file = (top: string, rule: string) => `
version: 1
scope:
  subscriptions: ["11111111-1111-4111-8111-111111111111"]
profiles:
  reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
rules:
  - name: a
    identity: { kind: SystemAssigned }
    profiles: [reader]
${rule}
  - name: b
    identity: { kind: SystemAssigned }
${top}`;

describe('rules file: lifecycle.revoke', () => {
  it('defaults to report with a guard of 50; a rule may choose its own', () => {
    const plain = parseRulesText(file('', ''), 'x.yaml');
    assert.deepEqual(lifecycleOf(plain), DEFAULT_LIFECYCLE);
    assert.equal(DEFAULT_LIFECYCLE.revoke, 'report');
    assert.equal(DEFAULT_LIFECYCLE.maxRevocations, 50);
    const mixed = parseRulesText(
      file('lifecycle:\n  revoke: enforce\n  maxRevocations: 10', '    lifecycle: { revoke: report }'),
      'x.yaml',
    );
    assert.deepEqual(lifecycleOf(mixed), { revoke: 'enforce', maxRevocations: 10 });
    assert.equal(revokeModeOf(mixed, mixed.rules[0]), 'report', "the rule's own setting wins");
    assert.equal(revokeModeOf(mixed, mixed.rules[1]), 'enforce', "else the file's");
  });

  it('a misspelt mode or key is refused with its path', () => {
    assert.throws(
      () => parseRulesText(file('lifecycle:\n  revoke: delete', ''), 'x.yaml'),
      /lifecycle\.revoke.*must be one of report, enforce/s,
    );
    assert.throws(() => parseRulesText(file('lifecycle:\n  revok: enforce', ''), 'x.yaml'), /unknown key 'revok'/);
    assert.throws(() => parseRulesText(file('lifecycle:\n  maxRevocations: -1', ''), 'x.yaml'), /maxRevocations/);
  });
});
