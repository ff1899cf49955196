/**
 * Azure Resource Graph's query language, as far as the emulator needs it: queries are parsed with
 * Microsoft's own KQL parser (`@kusto/language-service-next`, the Kusto.Language library compiled to
 * JavaScript with Bridge.NET), then compiled once into closures and run over rows. Operators and
 * functions outside the supported set are refused with the position of the offending node.
 */

// The package is a Bridge.NET build: its runtime (bridge.js) must be loaded first, as the package's
// index.html does; it then defines the global `Kusto` namespace.
let kusto: any;
export function kustoLanguage(): any {
  if (!kusto) {
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    kusto = (globalThis as any).Kusto.Language;
  }
  return kusto;
}

export interface KqlDiagnostic {
  code: string;
  message: string;
  severity: string;
  start: number;
  length: number;
}

/** Syntax diagnostics of a query, from the real parser. */
export function kqlSyntaxDiagnostics(query: string): KqlDiagnostic[] {
  return diagnosticsOf(kustoLanguage().KustoCode.Parse(query));
}

function diagnosticsOf(code: any): KqlDiagnostic[] {
  const list = code.GetDiagnostics();
  const out: KqlDiagnostic[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    out.push({ code: d.Code, message: d.Message, severity: String(d.Severity), start: d.Start, length: d.Length });
  }
  return out;
}

export class KqlError extends Error {
  constructor(
    /** `ParserFailure` (not KQL) or `UnsupportedOperator`/`UnsupportedFunction`/`UnknownTable` (KQL the emulator does not run). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Row = Record<string, unknown>;
type Value = unknown;
type Expr = (row: Row) => Value;

export type Stage =
  | { kind: 'where'; predicate: Expr }
  | { kind: 'extend'; columns: Array<[string, Expr]> }
  | { kind: 'project'; columns: Array<[string, Expr]> }
  | { kind: 'order'; keys: Array<{ expr: Expr; desc: boolean }> }
  | { kind: 'take'; count: number }
  /**
   * `join kind=leftouter|inner (subquery) on col[, col]`: Resource Graph supports the innerunique, inner,
   * leftouter and fullouter flavors (Learn: governance/resource-graph/concepts/query-language); the
   * emulator runs the two the project uses. Right-side columns whose name the left side already has
   * get the suffix `1`, as Kusto does.
   */
  | { kind: 'join'; flavor: 'leftouter' | 'inner'; right: { table: string; stages: Stage[] }; keys: string[] }
  /** `summarize [Name =] count()[, ...] [by Col, ...]`: count() is the only aggregation the emulator runs. */
  | { kind: 'summarize'; counts: string[]; by: Array<[string, Expr]> }
  /** `mv-expand [Name =] Expr [limit N]`: one row per element of an array or per pair of a bag (see compileMvExpand). */
  | { kind: 'mv-expand'; name: string; expr: Expr; limit: number };

/** Rows of a table a join's subquery names. */
export type TableSource = (table: string) => Iterable<Row>;

export interface CompiledQuery {
  table: string;
  stages: Stage[];
  /** Equality/`in~` conditions of the first `where` on plain columns, for index lookups. */
  lookups: Array<{ column: string; values: string[] }>;
}

let kindNames: Map<number, string> | undefined;
function kindOf(node: any): string {
  if (!kindNames) {
    const K = kustoLanguage();
    kindNames = new Map();
    const SyntaxKind = K.Syntax.SyntaxKind;
    for (const name of (globalThis as any).Bridge.global.System.Enum.getNames(SyntaxKind)) kindNames.set(SyntaxKind[name], name);
  }
  return kindNames.get(node.Kind) ?? String(node.Kind);
}

function children(node: any): any[] {
  const out = [];
  for (let i = 0; i < node.ChildCount; i++) {
    const c = node.GetChild(i);
    if (c && !c.IsToken) out.push(c);
  }
  return out;
}

function tokens(node: any, out: string[] = []): string[] {
  if (node.IsToken) {
    out.push(node.Text);
    return out;
  }
  for (let i = 0; i < node.ChildCount; i++) {
    const c = node.GetChild(i);
    if (c) tokens(c, out);
  }
  return out;
}

const textOf = (node: any): string => tokens(node).join(' ').trim();

/** The elements of a List of SeparatedElements. */
function elements(list: any): any[] {
  return children(list).map((e) => (kindOf(e) === 'SeparatedElement' ? children(e)[0] : e));
}

function unsupported(node: any, what = 'operator'): never {
  throw new KqlError(
    what === 'function' ? 'UnsupportedFunction' : 'UnsupportedOperator',
    `The ${what} '${textOf(node).slice(0, 60)}' is not supported (at position ${node.TextStart}).`,
  );
}

const str = (v: Value): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const lower = (v: Value): string => str(v).toLowerCase();
const isEmpty = (v: Value): boolean => v === undefined || v === null || v === '';

/** KQL `has`: a whole term, case-insensitive. */
function has(haystack: Value, term: Value): boolean {
  const h = lower(haystack);
  const t = lower(term);
  if (t === '') return true;
  let from = 0;
  for (;;) {
    const i = h.indexOf(t, from);
    if (i < 0) return false;
    const before = i === 0 ? '' : h[i - 1]!;
    const after = h[i + t.length] ?? '';
    if (!/[a-z0-9_]/.test(before) && !/[a-z0-9_]/.test(after)) return true;
    from = i + 1;
  }
}

function regexOf(pattern: string): RegExp {
  // RE2's inline (?i) flag, which JavaScript spells as a flag.
  const insensitive = pattern.startsWith('(?i)');
  return new RegExp(insensitive ? pattern.slice(4) : pattern, insensitive ? 'i' : '');
}

function literalValue(node: any, kind: string): Value {
  if (kind === 'StringLiteralExpression') return node.LiteralValue;
  const text = textOf(node);
  if (kind === 'BooleanLiteralExpression') return text.toLowerCase() === 'true';
  if (kind === 'LongLiteralExpression' || kind === 'IntLiteralExpression' || kind === 'RealLiteralExpression') return Number(text);
  if (kind === 'NullLiteralExpression') return null;
  return unsupported(node, 'literal');
}

const FUNCTIONS: Record<string, (args: Value[]) => Value> = {
  tolower: ([v]) => (v === undefined || v === null ? v : lower(v)),
  toupper: ([v]) => (v === undefined || v === null ? v : str(v).toUpperCase()),
  tostring: ([v]) => str(v),
  isnotempty: ([v]) => !isEmpty(v),
  isempty: ([v]) => isEmpty(v),
  isnull: ([v]) => v === undefined || v === null,
  isnotnull: ([v]) => !(v === undefined || v === null),
  // The keys of a property bag as an array; null for anything else (KQL bag_keys()).
  bag_keys: ([v]) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : null),
  not: ([v]) => !v,
  strcat: (args) => args.map(str).join(''),
};

const BINARY: Record<string, (a: Value, b: Value) => Value> = {
  EqualExpression: (a, b) => (typeof a === 'string' || typeof b === 'string' ? str(a) === str(b) : a === b),
  NotEqualExpression: (a, b) => (typeof a === 'string' || typeof b === 'string' ? str(a) !== str(b) : a !== b),
  EqualTildeExpression: (a, b) => lower(a) === lower(b),
  BangTildeExpression: (a, b) => lower(a) !== lower(b),
  HasExpression: (a, b) => has(a, b),
  NotHasExpression: (a, b) => !has(a, b),
  ContainsExpression: (a, b) => lower(a).includes(lower(b)),
  NotContainsExpression: (a, b) => !lower(a).includes(lower(b)),
  StartsWithExpression: (a, b) => lower(a).startsWith(lower(b)),
  NotStartsWithExpression: (a, b) => !lower(a).startsWith(lower(b)),
  EndsWithExpression: (a, b) => lower(a).endsWith(lower(b)),
  NotEndsWithExpression: (a, b) => !lower(a).endsWith(lower(b)),
  LessThanExpression: (a, b) => (a as number) < (b as number),
  GreaterThanExpression: (a, b) => (a as number) > (b as number),
};

function compileExpr(node: any): Expr {
  const kind = kindOf(node);
  const kids = children(node);
  if (kind === 'NameReference') {
    const name = String(node.SimpleName);
    return (row) => row[name];
  }
  if (kind.endsWith('LiteralExpression')) {
    const v = literalValue(node, kind);
    return () => v;
  }
  if (kind === 'ParenthesizedExpression') return compileExpr(kids[0]);
  if (kind === 'AndExpression' || kind === 'OrExpression') {
    const [l, r] = kids.map(compileExpr) as [Expr, Expr];
    return kind === 'AndExpression' ? (row) => !!l(row) && !!r(row) : (row) => !!l(row) || !!r(row);
  }
  if (kind === 'PathExpression') {
    const target = compileExpr(kids[0]);
    const name = String(kids[1].SimpleName ?? textOf(kids[1]));
    return (row) => {
      const t = target(row) as Record<string, unknown> | undefined;
      return t && typeof t === 'object' ? t[name] : undefined;
    };
  }
  if (kind === 'ElementExpression') {
    const target = compileExpr(kids[0]);
    const index = compileExpr(children(kids[1])[0]);
    return (row) => {
      const t = target(row) as any;
      const i = index(row) as any;
      if (!t || typeof t !== 'object') return undefined;
      return Array.isArray(t) && typeof i === 'number' ? t[i < 0 ? t.length + i : i] : t[i];
    };
  }
  if (kind === 'MatchesRegexExpression') {
    const [l, r] = kids as [any, any];
    const rk = kindOf(r);
    if (rk !== 'StringLiteralExpression') unsupported(node);
    const re = regexOf(String(r.LiteralValue));
    const left = compileExpr(l);
    return (row) => re.test(str(left(row)));
  }
  if (kind in BINARY) {
    const [l, r] = kids.map(compileExpr) as [Expr, Expr];
    const op = BINARY[kind]!;
    return (row) => op(l(row), r(row));
  }
  if (kind === 'InExpression' || kind === 'InCsExpression' || kind === 'NotInExpression' || kind === 'NotInCsExpression') {
    const left = compileExpr(kids[0]);
    const list = elements(children(kids[1])[0]);
    const values = list.map((e) => {
      const k = kindOf(e);
      if (!k.endsWith('LiteralExpression')) unsupported(e, 'non-literal in-list');
      return literalValue(e, k);
    });
    const insensitive = kind === 'InCsExpression' || kind === 'NotInCsExpression';
    const negate = kind.startsWith('Not');
    const set = new Set(values.map((v) => (insensitive ? lower(v) : str(v))));
    return (row) => set.has(insensitive ? lower(left(row)) : str(left(row))) !== negate;
  }
  if (kind === 'FunctionCallExpression') {
    const name = String(kids[0].SimpleName).toLowerCase();
    const fn = FUNCTIONS[name];
    if (!fn) unsupported(kids[0], 'function');
    const args = elements(children(kids[1])[0]).map(compileExpr);
    return (row) => fn(args.map((a) => a(row)));
  }
  return unsupported(node, 'expression');
}

/** `name = expr` or a plain column, as extend, project and mv-expand name their output columns. */
function namedColumn(e: any): [string, Expr] {
  const k = kindOf(e);
  if (k === 'SimpleNamedExpression') {
    const [decl, expr] = children(e);
    return [textOf(decl), compileExpr(expr)];
  }
  if (k === 'NameReference') return [String(e.SimpleName), compileExpr(e)];
  return unsupported(e, 'column expression');
}

function columnList(list: any): Array<[string, Expr]> {
  return elements(list).map(namedColumn);
}

/** `a`, `a.b.c` or `tostring(a.b)` as a dotted path; undefined for anything else. */
function columnPath(node: any): string | undefined {
  const kind = kindOf(node);
  if (kind === 'NameReference') return String(node.SimpleName);
  const kids = children(node);
  if (kind === 'PathExpression') {
    const head = columnPath(kids[0]);
    return head && kindOf(kids[1]) === 'NameReference' ? `${head}.${String(kids[1].SimpleName)}` : undefined;
  }
  if (kind === 'FunctionCallExpression' && String(kids[0].SimpleName).toLowerCase() === 'tostring') {
    const args = elements(children(kids[1])[0]);
    return args.length === 1 ? columnPath(args[0]) : undefined;
  }
  return undefined;
}

/** Plain-column equality conditions (`col =~ 'x'`, `col in~ (...)`, joined by `and`), for index lookups. */
function lookupsOf(node: any, out: CompiledQuery['lookups']): void {
  const kind = kindOf(node);
  const kids = children(node);
  if (kind === 'AndExpression') return kids.forEach((k) => lookupsOf(k, out));
  if (kind === 'ParenthesizedExpression') return lookupsOf(kids[0], out);
  const column = kids[0] ? columnPath(kids[0]) : undefined;
  if (!column) return;
  if (kind === 'EqualTildeExpression' && kindOf(kids[1]) === 'StringLiteralExpression')
    out.push({ column, values: [String(kids[1].LiteralValue).toLowerCase()] });
  if (kind === 'InCsExpression') {
    const list = elements(children(kids[1])[0]);
    if (list.every((e) => kindOf(e) === 'StringLiteralExpression'))
      out.push({ column, values: list.map((e) => String(e.LiteralValue).toLowerCase()) });
  }
}

/** Parses and compiles a query; throws KqlError for syntax errors and anything unsupported. */
export function compileKql(query: string): CompiledQuery {
  // One parse for both the diagnostics and the syntax tree (a sweep's grants query lists 1,000 principals).
  const diagnostics = kustoLanguage().KustoCode.Parse(query);
  const problems = diagnosticsOf(diagnostics);
  if (problems.length > 0) {
    const p = problems[0]!;
    throw new KqlError('ParserFailure', `${p.message} (${p.code} at position ${p.start})`);
  }
  const block = diagnostics.Syntax;
  // QueryBlock: [directives list, statements list, end of text].
  const statements = elements(children(block).filter((c) => kindOf(c) === 'List')[1] ?? block);
  if (statements.length !== 1 || kindOf(statements[0]) !== 'ExpressionStatement') unsupported(block, 'statement');
  return compilePipeline(children(statements[0])[0]);
}

function compileJoin(op: any): Stage {
  const kids = children(op);
  const params = kids.find((k) => kindOf(k) === 'List');
  const flavorText = params ? elements(params).map(textOf).join(' ') : '';
  const flavor = /^kind\s*=\s*(\w+)$/i.exec(flavorText)?.[1]?.toLowerCase();
  if (flavor !== 'leftouter' && flavor !== 'inner') unsupported(op, 'join flavor (only kind=leftouter and kind=inner)');
  const rightNode = kids.find((k) => kindOf(k) === 'ParenthesizedExpression');
  if (!rightNode) unsupported(op, 'join without a parenthesized subquery');
  const right = compilePipeline(children(rightNode)[0]);
  const on = kids.find((k) => kindOf(k) === 'JoinOnClause');
  const keys = on
    ? elements(children(on)[0]).map((e) =>
        kindOf(e) === 'NameReference' ? String(e.SimpleName) : unsupported(e, 'join key (only plain column names)'),
      )
    : [];
  if (keys.length === 0) unsupported(op, 'join without on keys');
  return { kind: 'join', flavor, right: { table: right.table, stages: right.stages }, keys };
}

/**
 * `summarize` with `count()` aggregates only, e.g. role assignments per subscription
 * (`authorizationresources | summarize count() by subscriptionId`). An unnamed count is `count_`, as Kusto names it.
 */
function compileSummarize(op: any): Stage {
  const kids = children(op);
  const [params, aggregates] = kids;
  if (params && elements(params).length > 0) unsupported(op, 'summarize parameter');
  const counts = elements(aggregates).map((e) => {
    const named = kindOf(e) === 'SimpleNamedExpression';
    const call = named ? children(e)[1] : e;
    const isCount =
      kindOf(call) === 'FunctionCallExpression' &&
      textOf(children(call)[0]).toLowerCase() === 'count' &&
      elements(children(children(call)[1])[0]).length === 0;
    if (!isCount) unsupported(e, 'aggregation (only count())');
    return named ? textOf(children(e)[0]) : 'count_';
  });
  const byClause = kids.find((k) => kindOf(k) === 'SummarizeByClause');
  return { kind: 'summarize', counts, by: byClause ? columnList(children(byClause)[0]) : [] };
}

function summarizeRows(input: Iterable<Row>, stage: Extract<Stage, { kind: 'summarize' }>): Row[] {
  const groups = new Map<string, { row: Row; n: number }>();
  for (const r of input) {
    const values = stage.by.map(([, e]) => e(r));
    const k = JSON.stringify(values);
    const g = groups.get(k);
    if (g) g.n++;
    else groups.set(k, { row: Object.fromEntries(stage.by.map(([name], i) => [name, values[i]])), n: 1 });
  }
  // Without `by`, one row even over no input (count_ = 0), as Kusto answers.
  if (stage.by.length === 0 && groups.size === 0) groups.set('[]', { row: {}, n: 0 });
  return [...groups.values()].map(({ row, n }) => ({ ...row, ...Object.fromEntries(stage.counts.map((c) => [c, n])) }));
}

/**
 * Resource Graph caps mv-expand's rows per source row: "RowLimit max of 400. The default is 128"
 * (Learn: governance/resource-graph/concepts/query-language, supported tabular operators), where
 * Kusto itself has no default limit. The stricter figures are used: the default truncates silently,
 * as the service does, and a larger `limit` is refused.
 */
const MV_EXPAND_DEFAULT_LIMIT = 128;
const MV_EXPAND_MAX_LIMIT = 400;

/** `mv-expand [Name =] Expr [limit N]` with one expression and no `kind=`/`with_itemindex=`/`to typeof()`. */
function compileMvExpand(op: any): Stage {
  const [params, list, limitClause] = children(op);
  if (params && elements(params).length > 0) unsupported(op, 'mv-expand parameter (kind=, with_itemindex=)');
  const items = elements(list);
  if (items.length !== 1) unsupported(op, 'mv-expand of more than one expression');
  const parts = children(items[0]);
  if (parts.length !== 1) unsupported(items[0], 'mv-expand to typeof()');
  const [name, expr] = namedColumn(parts[0]);
  let limit = MV_EXPAND_DEFAULT_LIMIT;
  if (limitClause) {
    limit = Number(compileExpr(children(limitClause)[0])({}));
    if (!Number.isInteger(limit) || limit < 0 || limit > MV_EXPAND_MAX_LIMIT)
      unsupported(limitClause, `mv-expand limit above ${MV_EXPAND_MAX_LIMIT}`);
  }
  return { kind: 'mv-expand', name, expr, limit };
}

/**
 * The elements mv-expand makes of a value: an array's items, a bag's pairs as one-pair bags (Kusto's
 * default kind=bag). Anything else, null and empty included, gives none, so its row is dropped (stricter:
 * a query must not count a row that holds nothing to expand).
 */
function expandValues(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => ({ [k]: x }));
  return [];
}

function compilePipeline(start: any): CompiledQuery {
  let expr = start;
  const ops: any[] = [];
  while (kindOf(expr) === 'PipeExpression') {
    const [left, op] = children(expr);
    ops.unshift(op);
    expr = left;
  }
  if (kindOf(expr) !== 'NameReference') unsupported(expr, 'table expression');
  const table = String(expr.SimpleName).toLowerCase();
  const stages: Stage[] = [];
  const lookups: CompiledQuery['lookups'] = [];
  for (const op of ops) {
    const kind = kindOf(op);
    const kids = children(op);
    if (kind === 'FilterOperator') {
      const predicate = kids[kids.length - 1];
      if (stages.length === 0) lookupsOf(predicate, lookups);
      const compiled = compileExpr(predicate);
      stages.push({ kind: 'where', predicate: (row) => !!compiled(row) });
    } else if (kind === 'ExtendOperator') {
      stages.push({ kind: 'extend', columns: columnList(kids[0]) });
    } else if (kind === 'ProjectOperator') {
      stages.push({ kind: 'project', columns: columnList(kids[0]) });
    } else if (kind === 'SortOperator') {
      const keys = elements(kids[kids.length - 1]).map((e) => {
        const [inner, clause] = kindOf(e) === 'OrderedExpression' ? children(e) : [e, undefined];
        // KQL sorts descending unless told otherwise.
        return { expr: compileExpr(inner), desc: !clause || !/\basc\b/i.test(textOf(clause)) };
      });
      stages.push({ kind: 'order', keys });
    } else if (kind === 'TakeOperator') {
      const n = compileExpr(kids[kids.length - 1])({});
      stages.push({ kind: 'take', count: Number(n) });
    } else if (kind === 'JoinOperator') {
      stages.push(compileJoin(op));
    } else if (kind === 'SummarizeOperator') {
      stages.push(compileSummarize(op));
    } else if (kind === 'MvExpandOperator') {
      stages.push(compileMvExpand(op));
    } else {
      unsupported(op);
    }
  }
  return { table, stages, lookups };
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = str(a);
  const y = str(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A join's right side, built once and reused while it holds: a paged query over a generated estate
 * runs its stages page by page against one snapshot of the right table, as Resource Graph's
 * `$skipToken` pages all come from one result.
 */
export type JoinCache = Map<Stage, Map<string, Row[]>>;

function joinRows(left: Iterable<Row>, stage: Extract<Stage, { kind: 'join' }>, tables: TableSource, cache?: JoinCache): Row[] {
  const keyOf = (r: Row) => JSON.stringify(stage.keys.map((k) => r[k] ?? null));
  let byKey = cache?.get(stage);
  if (!byKey) {
    byKey = new Map<string, Row[]>();
    for (const r of runStages(tables(stage.right.table), stage.right.stages, tables)) {
      const k = keyOf(r);
      const list = byKey.get(k);
      if (list) list.push(r);
      else byKey.set(k, [r]);
    }
    cache?.set(stage, byKey);
  }
  const out: Row[] = [];
  for (const l of left) {
    const matches = byKey.get(keyOf(l)) ?? [];
    if (matches.length === 0 && stage.flavor === 'leftouter') out.push({ ...l });
    for (const r of matches) {
      const merged: Row = { ...l };
      for (const [name, value] of Object.entries(r)) merged[name in l ? `${name}1` : name] = value;
      out.push(merged);
    }
  }
  return out;
}

/** Ordering of two rows by an `order by` stage's keys (negative: `a` comes first). */
export function compareByOrder(stage: Extract<Stage, { kind: 'order' }>, a: Row, b: Row): number {
  for (const key of stage.keys) {
    const c = compare(key.expr(a), key.expr(b));
    if (c !== 0) return key.desc ? -c : c;
  }
  return 0;
}

/** Runs the compiled stages over rows. Rows are not modified; extend/project create new objects. */
export function runStages(rows: Iterable<Row>, stages: readonly Stage[], tables: TableSource = () => [], joins?: JoinCache): Row[] {
  let current: Row[] | Iterable<Row> = rows;
  for (const stage of stages) {
    const input = current;
    const out: Row[] = [];
    switch (stage.kind) {
      case 'where':
        for (const r of input) if (stage.predicate(r)) out.push(r);
        break;
      case 'extend':
        for (const r of input) {
          const n = { ...r };
          for (const [name, e] of stage.columns) n[name] = e(r);
          out.push(n);
        }
        break;
      case 'project':
        for (const r of input) {
          const n: Row = {};
          for (const [name, e] of stage.columns) n[name] = e(r);
          out.push(n);
        }
        break;
      case 'order': {
        const all = [...input];
        const keyed = all.map((r) => ({ r, k: stage.keys.map((key) => key.expr(r)) }));
        keyed.sort((p, q) => {
          for (let i = 0; i < stage.keys.length; i++) {
            const c = compare(p.k[i], q.k[i]);
            if (c !== 0) return stage.keys[i]!.desc ? -c : c;
          }
          return 0;
        });
        for (const { r } of keyed) out.push(r);
        break;
      }
      case 'take': {
        for (const r of input) {
          if (out.length >= stage.count) break;
          out.push(r);
        }
        break;
      }
      case 'join':
        out.push(...joinRows(input, stage, tables, joins));
        break;
      case 'summarize':
        out.push(...summarizeRows(input, stage));
        break;
      case 'mv-expand':
        for (const r of input) for (const v of expandValues(stage.expr(r)).slice(0, stage.limit)) out.push({ ...r, [stage.name]: v });
        break;
    }
    current = out;
  }
  return Array.isArray(current) ? current : [...current];
}
