/**
 * Evaluates the ABAC conditions Azure RBAC puts on role assignments (conditionVersion 2.0), for the
 * forms that constrain role-assignment writes and deletes:
 *
 *   ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR
 *    (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {g1, g2}))
 *
 * Grammar: expr := and ('OR' and)* ; and := unary ('AND' unary)* ; unary := ('!'|'NOT') unary | '(' expr ')' | atom
 * atom := ActionMatches{'a'} | SubOperationMatches{'s'} | attribute operator values
 */
export interface ConditionContext {
  action: string;
  request: Record<string, string | undefined>;
  resource: Record<string, string | undefined>;
}

export class ConditionSyntaxError extends Error {}

type Node =
  | { kind: 'or' | 'and'; left: Node; right: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'action'; actions: string[] }
  | { kind: 'suboperation' }
  | { kind: 'compare'; source: 'request' | 'resource'; attribute: string; quantifier?: string; operator: string; values: string[] };

const BASE_OPERATORS = new Set([
  'guidequals',
  'guidnotequals',
  'stringequals',
  'stringequalsignorecase',
  'stringnotequals',
  'stringnotequalsignorecase',
]);
const QUANTIFIERS = new Set(['foranyofanyvalues', 'forallofanyvalues', 'foranyofallvalues', 'forallofallvalues']);

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): Node {
    const node = this.expr();
    this.skip();
    if (this.pos < this.text.length) throw this.fail('unexpected text');
    return node;
  }

  private fail(what: string): ConditionSyntaxError {
    return new ConditionSyntaxError(`${what} at offset ${this.pos}: '${this.text.slice(this.pos, this.pos + 30)}'`);
  }

  private skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private keyword(word: string): boolean {
    this.skip();
    const slice = this.text.slice(this.pos, this.pos + word.length);
    if (slice.toUpperCase() === word && !/[A-Za-z]/.test(this.text[this.pos + word.length] ?? '')) {
      this.pos += word.length;
      return true;
    }
    return false;
  }

  private expr(): Node {
    let left = this.and();
    while (this.keyword('OR') || this.symbol('||')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): Node {
    let left = this.unary();
    while (this.keyword('AND') || this.symbol('&&')) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private symbol(s: string): boolean {
    this.skip();
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  private unary(): Node {
    if (this.symbol('!') || this.keyword('NOT')) return { kind: 'not', operand: this.unary() };
    if (this.symbol('(')) {
      const inner = this.expr();
      if (!this.symbol(')')) throw this.fail("expected ')'");
      return inner;
    }
    return this.atom();
  }

  private atom(): Node {
    this.skip();
    const ident = /^[A-Za-z]+/.exec(this.text.slice(this.pos))?.[0];
    if (ident === 'ActionMatches' || ident === 'SubOperationMatches') {
      this.pos += ident.length;
      const values = this.valueSet();
      return ident === 'ActionMatches' ? { kind: 'action', actions: values } : { kind: 'suboperation' };
    }
    const attr = /^@(Request|Resource)\[([^\]]+)\]/.exec(this.text.slice(this.pos));
    if (!attr) throw this.fail('expected ActionMatches or an @Request/@Resource attribute');
    this.pos += attr[0].length;
    this.skip();
    const op = /^[A-Za-z]+(:[A-Za-z]+)?/.exec(this.text.slice(this.pos))?.[0];
    if (!op) throw this.fail('expected an operator');
    this.pos += op.length;
    const [first, second] = op.split(':') as [string, string | undefined];
    const quantifier = second ? first.toLowerCase() : undefined;
    const operator = (second ?? first).toLowerCase();
    if (quantifier && !QUANTIFIERS.has(quantifier)) throw this.fail(`unsupported quantifier '${first}'`);
    if (!BASE_OPERATORS.has(operator)) throw this.fail(`unsupported operator '${second ?? first}'`);
    return {
      kind: 'compare',
      source: attr[1] === 'Request' ? 'request' : 'resource',
      attribute: attr[2]!.trim().toLowerCase(),
      quantifier,
      operator,
      values: this.valueSet(),
    };
  }

  /** `{'a', 'b'}`, `{g1, g2}` or a single `'a'` / bare value. */
  private valueSet(): string[] {
    this.skip();
    if (this.symbol('{')) {
      const values: string[] = [];
      for (;;) {
        values.push(this.scalar());
        if (this.symbol(',')) continue;
        if (this.symbol('}')) return values;
        throw this.fail("expected ',' or '}'");
      }
    }
    return [this.scalar()];
  }

  private scalar(): string {
    this.skip();
    if (this.text[this.pos] === "'") {
      const end = this.text.indexOf("'", this.pos + 1);
      if (end < 0) throw this.fail('unterminated string');
      const v = this.text.slice(this.pos + 1, end);
      this.pos = end + 1;
      return v;
    }
    const bare = /^[-\w./]+/.exec(this.text.slice(this.pos))?.[0];
    if (!bare) throw this.fail('expected a value');
    this.pos += bare.length;
    return bare;
  }
}

export function parseCondition(text: string): Node {
  return new Parser(text).parse();
}

function compareOne(operator: string, actual: string, expected: string): boolean {
  switch (operator) {
    case 'guidequals':
    case 'stringequalsignorecase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'guidnotequals':
    case 'stringnotequalsignorecase':
      return actual.toLowerCase() !== expected.toLowerCase();
    case 'stringequals':
      return actual === expected;
    case 'stringnotequals':
      return actual !== expected;
    default:
      return false;
  }
}

function evaluate(node: Node, ctx: ConditionContext): boolean {
  switch (node.kind) {
    case 'or':
      return evaluate(node.left, ctx) || evaluate(node.right, ctx);
    case 'and':
      return evaluate(node.left, ctx) && evaluate(node.right, ctx);
    case 'not':
      return !evaluate(node.operand, ctx);
    case 'action':
      return node.actions.some((a) => a.toLowerCase() === ctx.action.toLowerCase());
    case 'suboperation':
      return false;
    case 'compare': {
      const bag = node.source === 'request' ? ctx.request : ctx.resource;
      const actual = Object.entries(bag).find(([k]) => k.toLowerCase() === node.attribute)?.[1];
      // A missing attribute never satisfies a comparison: access is denied rather than guessed.
      if (actual === undefined) return false;
      const matches = node.values.map((v) => compareOne(node.operator, actual, v));
      const all = node.quantifier === 'foranyofallvalues' || node.quantifier === 'forallofallvalues';
      return all ? matches.every(Boolean) : matches.some(Boolean);
    }
  }
}

export function evaluateCondition(text: string, ctx: ConditionContext): boolean {
  return evaluate(parseCondition(text), ctx);
}
