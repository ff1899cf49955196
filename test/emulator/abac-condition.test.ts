import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConditionContext, ConditionSyntaxError, evaluateCondition, parseCondition } from '../../tools/arm-emulator/abac-condition';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const KV_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

const WRITE = 'Microsoft.Authorization/roleAssignments/write';
const DELETE = 'Microsoft.Authorization/roleAssignments/delete';
const READ = 'Microsoft.Authorization/roleAssignments/read';
const ROLE_ATTR = 'Microsoft.Authorization/roleAssignments:RoleDefinitionId';
const TYPE_ATTR = 'Microsoft.Authorization/roleAssignments:PrincipalType';

/** The delegation condition from azure-facts.md, verbatim in shape, with two allowed roles. */
const FACTS_CONDITION = `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR
 (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${READER}, ${KV_SECRETS_USER}}
  AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))
AND
((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR
 (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${READER}, ${KV_SECRETS_USER}}))`;

function ctx(action: string, request: ConditionContext['request'] = {}, resource: ConditionContext['resource'] = {}): ConditionContext {
  return { action, request, resource };
}

describe('parseCondition', () => {
  it('parses the azure-facts delegation condition', () => {
    const tree = parseCondition(FACTS_CONDITION);
    assert.equal(tree.kind, 'and');
  });

  it('binds AND tighter than OR, and NOT tightest', () => {
    assert.deepEqual(parseCondition("ActionMatches{'a'} OR ActionMatches{'b'} AND ActionMatches{'c'}"), {
      kind: 'or',
      left: { kind: 'action', actions: ['a'] },
      right: { kind: 'and', left: { kind: 'action', actions: ['b'] }, right: { kind: 'action', actions: ['c'] } },
    });
    assert.deepEqual(parseCondition("!ActionMatches{'a'} AND ActionMatches{'b'}"), {
      kind: 'and',
      left: { kind: 'not', operand: { kind: 'action', actions: ['a'] } },
      right: { kind: 'action', actions: ['b'] },
    });
  });

  it('accepts the symbolic operators and NOT', () => {
    const c = ctx(WRITE);
    assert.equal(evaluateCondition(`ActionMatches{'${WRITE}'} && !ActionMatches{'${DELETE}'}`, c), true);
    assert.equal(evaluateCondition(`NOT ActionMatches{'${WRITE}'} || ActionMatches{'${DELETE}'}`, c), false);
  });

  const broken: Array<[string, string]> = [
    ['empty text', ''],
    ['unbalanced parenthesis', `((ActionMatches{'${WRITE}'})`],
    ['trailing text', `ActionMatches{'${WRITE}'} extra`],
    ['dangling OR', `ActionMatches{'${WRITE}'} OR`],
    ['unterminated string', `ActionMatches{'${WRITE}}`],
    ['unclosed value set', `@Request[${ROLE_ATTR}] GuidEquals {${READER}, ${OWNER}`],
    ['empty value set', `@Request[${ROLE_ATTR}] GuidEquals {}`],
    ['unknown operator', `@Request[${ROLE_ATTR}] GuidLooksLike {${READER}}`],
    ['unknown quantifier', `@Request[${ROLE_ATTR}] ForSomeValues:GuidEquals {${READER}}`],
    ['missing operator', `@Request[${ROLE_ATTR}]`],
    ['unknown function', `ActionLike{'${WRITE}'}`],
    ['unknown attribute source', `@Principal[${ROLE_ATTR}] GuidEquals {${READER}}`],
  ];
  for (const [what, text] of broken) {
    it(`throws ConditionSyntaxError for ${what}`, () => {
      assert.throws(() => parseCondition(text), ConditionSyntaxError);
      assert.throws(() => evaluateCondition(text, ctx(WRITE)), ConditionSyntaxError);
    });
  }
});

describe('evaluateCondition with the azure-facts delegation condition', () => {
  const write = (role: string, principalType?: string) =>
    evaluateCondition(FACTS_CONDITION, ctx(WRITE, { [ROLE_ATTR]: role, [TYPE_ATTR]: principalType }));
  const del = (role?: string) => evaluateCondition(FACTS_CONDITION, ctx(DELETE, {}, role === undefined ? {} : { [ROLE_ATTR]: role }));

  it('write: allows an allowed role for a ServicePrincipal (GUID and type compared case-insensitively)', () => {
    assert.equal(write(READER, 'ServicePrincipal'), true);
    assert.equal(write(KV_SECRETS_USER, 'ServicePrincipal'), true);
    assert.equal(write(READER.toUpperCase(), 'serviceprincipal'), true);
  });

  it('write: denies other roles', () => {
    assert.equal(write(OWNER, 'ServicePrincipal'), false);
  });

  it('write: denies an allowed role for a User, a Group, or an unknown principal type', () => {
    assert.equal(write(READER, 'User'), false);
    assert.equal(write(READER, 'Group'), false);
    assert.equal(write(READER, undefined), false, 'a missing attribute never satisfies the condition');
  });

  it('delete: allows deleting assignments of the allowed roles only', () => {
    assert.equal(del(READER), true);
    assert.equal(del(KV_SECRETS_USER.toUpperCase()), true);
    assert.equal(del(OWNER), false);
    assert.equal(del(undefined), false);
  });

  it('delete: is not constrained by the request attributes (the write clause does not apply)', () => {
    assert.equal(
      evaluateCondition(FACTS_CONDITION, ctx(DELETE, { [ROLE_ATTR]: OWNER, [TYPE_ATTR]: 'User' }, { [ROLE_ATTR]: READER })),
      true,
    );
  });

  it('read and other actions: unconstrained', () => {
    assert.equal(evaluateCondition(FACTS_CONDITION, ctx(READ)), true);
    assert.equal(evaluateCondition(FACTS_CONDITION, ctx('Microsoft.Web/sites/write')), true);
  });

  it('attribute names and action names match case-insensitively', () => {
    assert.equal(
      evaluateCondition(
        FACTS_CONDITION,
        ctx(WRITE.toLowerCase(), { [ROLE_ATTR.toLowerCase()]: READER, [TYPE_ATTR.toUpperCase()]: 'ServicePrincipal' }),
      ),
      true,
    );
    assert.equal(
      evaluateCondition(FACTS_CONDITION, ctx(WRITE.toUpperCase(), { [ROLE_ATTR]: OWNER, [TYPE_ATTR]: 'ServicePrincipal' })),
      false,
    );
  });
});

describe('evaluateCondition operators', () => {
  const req = (op: string, value: string, values: string) =>
    evaluateCondition(`@Request[${TYPE_ATTR}] ${op} {${values}}`, ctx(WRITE, { [TYPE_ATTR]: value }));

  it('StringEquals is case-sensitive, StringEqualsIgnoreCase is not', () => {
    assert.equal(req('StringEquals', 'ServicePrincipal', "'ServicePrincipal'"), true);
    assert.equal(req('StringEquals', 'serviceprincipal', "'ServicePrincipal'"), false);
    assert.equal(req('StringEqualsIgnoreCase', 'serviceprincipal', "'ServicePrincipal'"), true);
  });

  it('negated operators', () => {
    assert.equal(req('StringNotEquals', 'User', "'ServicePrincipal'"), true);
    assert.equal(req('StringNotEquals', 'ServicePrincipal', "'ServicePrincipal'"), false);
    assert.equal(evaluateCondition(`@Request[${ROLE_ATTR}] GuidNotEquals {${OWNER}}`, ctx(WRITE, { [ROLE_ATTR]: READER })), true);
    assert.equal(
      evaluateCondition(`@Request[${ROLE_ATTR}] GuidNotEquals {${OWNER}}`, ctx(WRITE, { [ROLE_ATTR]: OWNER.toUpperCase() })),
      false,
    );
  });

  it('ForAnyOfAnyValues matches one of the set; ForAnyOfAllValues needs all of them', () => {
    assert.equal(req('ForAnyOfAnyValues:StringEquals', 'User', "'ServicePrincipal', 'User'"), true);
    assert.equal(req('ForAnyOfAllValues:StringEquals', 'User', "'ServicePrincipal', 'User'"), false);
    assert.equal(req('ForAnyOfAllValues:StringEquals', 'User', "'User'"), true);
  });

  it('reads @Request and @Resource from their own bags', () => {
    const text = `@Resource[${ROLE_ATTR}] GuidEquals {${READER}}`;
    assert.equal(evaluateCondition(text, ctx(DELETE, { [ROLE_ATTR]: READER }, {})), false);
    assert.equal(evaluateCondition(text, ctx(DELETE, {}, { [ROLE_ATTR]: READER })), true);
  });
});
