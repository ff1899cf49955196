import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesText, RulesFileError, validateRulesText } from '../../src/config';

const SUB = '00000000-0000-4000-8000-000000000001';

describe('validateRulesText (the validate command): every problem, with key path and line', () => {
  it('lists every structural problem, each at its own line', () => {
    const text = [
      'version: 2',
      'scope:',
      '  subscriptions: [nope, also-nope]',
      'profiles: {}',
      'rules:',
      '  - name: r1',
      '    identity: { kind: Sometimes }',
      '    colour: red',
      '',
    ].join('\n');
    const { problems } = validateRulesText(text, 'rules.yaml');
    assert.deepEqual(problems.map((p) => [p.keyPath, p.line]).sort(), [
      ['rules[0]', 8],
      ['rules[0].identity.kind', 7],
      ['scope.subscriptions[0]', 3],
      ['scope.subscriptions[1]', 3],
      ['version', 1],
    ]);
    // Loading the same file still stops at the first problem.
    assert.throws(() => parseRulesText(text, 'rules.yaml'), RulesFileError);
  });

  it('goes on past a broken profile or rule; a broken profile still counts as defined', () => {
    const text = [
      'version: 1',
      'scope:',
      `  subscriptions: [${SUB}]`,
      'profiles:',
      '  broken:',
      '    roles:',
      '      - role: NotARealRole',
      `        scope: /subscriptions/${SUB}`,
      '  fine:',
      '    roles:',
      '      - role: Reader',
      `        scope: /subscriptions/${SUB}`,
      'rules:',
      '  - name: a',
      '    identity: { kind: SystemAssigned }',
      '    profiles: [broken, fine, ghost]',
      '  - name: b',
      '    identity: { kind: UserAssigned }',
      '',
    ].join('\n');
    const { problems, warnings } = validateRulesText(text, 'rules.yaml');
    assert.deepEqual(
      problems.map((p) => [p.keyPath, p.line]),
      [
        ['profiles.broken.roles[0].role', 7],
        ['rules[0].profiles[2]', 16],
        ['rules[1].identity.userAssigned', 18],
      ],
    );
    assert.deepEqual(warnings, []);
  });

  it('a valid file has no problems; its warnings carry their line', () => {
    const text = [
      'version: 1',
      'scope:',
      `  subscriptions: [${SUB}]`,
      'profiles: {}',
      'rules:',
      '  - name: shared-by-accident',
      '    identity:',
      '      kind: UserAssigned',
      '      userAssigned: { name: id-fixed }',
      '',
    ].join('\n');
    const { problems, warnings } = validateRulesText(text, 'rules.yaml');
    assert.deepEqual(problems, []);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.keyPath, 'rules[0].identity.userAssigned.name');
    assert.equal(warnings[0]!.line, 9);
  });

  it('syntax errors: all of them, with lines; an empty file is one problem', () => {
    const syntax = validateRulesText('a: [\nb: }\n', 'rules.yaml');
    assert.ok(syntax.problems.length >= 2, JSON.stringify(syntax.problems));
    assert.ok(syntax.problems.every((p) => p.keyPath === '' && /YAML syntax error/.test(p.reason) && typeof p.line === 'number'));
    assert.deepEqual(
      validateRulesText('', 'rules.yaml').problems.map((p) => p.reason),
      ['the file is empty'],
    );
  });
});
