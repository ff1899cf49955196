import * as jmespath from 'jmespath';
import { Document, visit } from 'yaml';
import { escapeControls, hasControls, terminalLine } from '../text/safe-text';

/**
 * `--output` and `--query` as the Azure CLI does them. The reference is knack (the framework `az` is
 * built on), microsoft/knack `knack/output.py` and `knack/query.py` (0.10.1, the version Debian's
 * azure-cli 2.45 ships): every rule below cites the behaviour it copies. test/cli/output.test.ts compares
 * our rendering with knack's own formatters where Python and knack are installed.
 *
 * One deliberate difference: results carry names and tags resource creators chose, so no format prints
 * a control or bidi character raw (a raw ESC or 8-bit CSI can rewrite the terminal, U+202E reorders
 * what a reader sees). JSON and YAML escape them as `\uXXXX` (still valid, reading back the same
 * value); tsv and table cells show them as U+FFFD, as the commands' own tables do (src/text/safe-text.ts).
 */
export const OUTPUT_FORMATS = ['json', 'jsonc', 'yaml', 'table', 'tsv', 'none'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JMESPath query checked before anything runs: a bad one is a usage error, as in knack's `jmespath_type`. */
export class QueryError extends Error {}

interface CompiledQuery {
  readonly text: string;
}

/** Parses the query once (jmespath's `compile`), so a syntax error is reported before any work starts. */
export function compileQuery(text: string): CompiledQuery {
  try {
    (jmespath as unknown as { compile(q: string): unknown }).compile(text);
  } catch (e) {
    throw new QueryError(`argument --query: invalid jmespath_type value: '${text}' (${e instanceof Error ? e.message : String(e)})`);
  }
  return { text };
}

/**
 * Applies the query to the command's JSON result, before any formatting (knack registers it on
 * EVENT_INVOKER_FILTER_RESULT, which runs before the output producer).
 */
export function applyQuery(result: unknown, query: CompiledQuery): unknown {
  try {
    return jmespath.search(toJson(result), query.text) as unknown;
  } catch (e) {
    // A runtime error (e.g. a function applied to the wrong type) is the query's fault too.
    throw new QueryError(`--query '${query.text}': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The plain-JSON form of a result (drops undefined, turns Dates into strings), as the JSON output would show it. */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

export interface FormatOptions {
  /** knack's `enable_color`: stdout and stderr are both terminals. Only `jsonc` uses it. */
  color: boolean;
  /** `--query` was given: tables keep the query's key order and the command's own table is not used. */
  queryActive: boolean;
}

/**
 * Renders a result. `undefined`/`null` prints nothing at all, whatever the format (knack/cli.py prints
 * only `if cmd_result and cmd_result.result is not None`).
 */
export function formatResult(result: unknown, format: OutputFormat, options: FormatOptions): string {
  if (result === undefined || result === null) return '';
  const value = toJson(result);
  switch (format) {
    case 'json':
      return formatJson(value);
    case 'jsonc':
      // knack's get_formatter: "remove color if stdout is not a tty" (jsonc falls back to json).
      return options.color ? colorJson(value) : formatJson(value);
    case 'yaml':
      return formatYaml(value);
    case 'tsv':
      return formatTsv(value, options.queryActive);
    case 'table':
      return formatAutoTable(value, options.queryActive);
    case 'none':
      return '';
  }
}

/**
 * `json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True)`: keys sorted at every level. Control
 * and format characters, which JSON can only hold inside strings, become `\uXXXX` escapes.
 */
function formatJson(value: Json): string {
  return `${escapeControls(JSON.stringify(sortKeys(value), null, 2))}\n`;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const k of Object.keys(value).sort(compareCodePoints)) out[k] = sortKeys(value[k]!);
    return out;
  }
  return value;
}

/** Python sorts strings by code point; JS's default sort compares UTF-16 units, the same below U+10000. */
function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ANSI = { key: '\x1b[94m', string: '\x1b[33m', literal: '\x1b[36m', reset: '\x1b[39m' };

/** JSON with keys, strings and literals coloured (knack pipes the json text through pygments' JsonLexer). */
function colorJson(value: Json): string {
  return formatJson(value).replace(
    /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g,
    (m, str: string | undefined, colon: string | undefined) => {
      if (str !== undefined) return colon ? `${ANSI.key}${str}${ANSI.reset}${colon}` : `${ANSI.string}${str}${ANSI.reset}`;
      return `${ANSI.literal}${m}${ANSI.reset}`;
    },
  );
}

/**
 * `yaml.safe_dump(result, default_flow_style=False, allow_unicode=True)`: block style, keys sorted
 * (PyYAML's default), sequences not indented under their key. Quoting may differ in detail from
 * PyYAML; the values read back are the same (test/cli/output.test.ts checks it against PyYAML).
 */
function formatYaml(value: Json): string {
  const doc = new Document(value, { sortMapEntries: true });
  // A string (keys are scalars too) holding a control or format character is written double-quoted, the one
  // YAML style where `\uXXXX` is an escape; then every such character left raw is inside one.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && hasControls(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeControls(doc.toString({ indentSeq: false, lineWidth: 0 }));
}

/** Python's `str()` of a JSON value, which is what tsv and table cells show for nested scalars. */
function pythonStr(value: Json): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return String(value);
}

/**
 * knack's `_TsvOutput`: a list result is one row per item, anything else one row. A row of an object
 * is its values (sorted by key unless a query chose the order), a list row its items; inside a row a
 * list shows its length, an object nothing (to keep the columns aligned), a scalar Python's `str()`
 * (so `True`, `None`). A bare boolean row is lower-cased (`true`).
 */
function formatTsv(value: Json, queryActive: boolean): string {
  const rows = Array.isArray(value) ? value : [value];
  let out = '';
  for (const row of rows) {
    if (row !== null && typeof row === 'object') {
      const cells = Array.isArray(row) ? row : orderedValues(row, !queryActive);
      out += cells.map((c) => terminalLine(tsvCell(c))).join('\t');
    } else if (typeof row === 'boolean') {
      out += String(row);
    } else {
      out += terminalLine(tsvCell(row));
    }
    out += '\n';
  }
  return out;
}

function tsvCell(value: Json): string {
  if (Array.isArray(value)) return String(value.length);
  if (value !== null && typeof value === 'object') return '';
  return pythonStr(value);
}

function orderedValues(obj: { [key: string]: Json }, sorted: boolean): Json[] {
  const keys = sorted ? Object.keys(obj).sort(compareCodePoints) : Object.keys(obj);
  return keys.map((k) => obj[k]!);
}

/** Keys the generic table never shows (knack `_TableOutput.SKIP_KEYS`). */
const TABLE_SKIP_KEYS = new Set(['id', 'type', 'etag']);
/** tabulate pads every header with two spaces (its MIN_PADDING) before comparing with the cells. */
const TABLE_MIN_PADDING = 2;

/**
 * knack's `_TableOutput`, used when a command has no table of its own or `--query` is active: one row
 * per item; an object's scalar values become columns headed by the key with its first letter upper-cased
 * (keys sorted unless a query chose the order; `id`, `type`, `etag`, nulls, lists and objects left out);
 * a list item becomes Column1..n, a scalar one `Result`. Drawn as tabulate's "simple" format.
 */
function formatAutoTable(value: Json, queryActive: boolean): string {
  const items = Array.isArray(value) ? value : [value];
  const rows = items.map((item) => autoTableRow(item, !queryActive));
  const headers: string[] = [];
  for (const row of rows) for (const k of row.keys()) if (!headers.includes(k)) headers.push(k);
  if (headers.length === 0) {
    if (rows.length === 0) return '\n';
    throw new TableUnavailableError();
  }
  const cells = rows.map((row) => headers.map((h) => (row.has(h) ? terminalLine(tableCell(row.get(h)!)) : '')));
  const widths = headers.map((h, i) => Math.max(h.length + TABLE_MIN_PADDING, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}

/**
 * tabulate shows None as an empty cell; scalars as Python's str(). Containers only reach a cell from a
 * list item (an object's are left out); Python would show their repr, we show compact JSON.
 */
function tableCell(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return pythonStr(value);
}

function autoTableRow(item: Json, sortKeysToo: boolean): Map<string, Json> {
  const row = new Map<string, Json>();
  if (Array.isArray(item)) {
    item.forEach((v, i) => row.set(`Column${i + 1}`, v));
  } else if (item !== null && typeof item === 'object') {
    const keys = sortKeysToo ? Object.keys(item).sort(compareCodePoints) : Object.keys(item);
    for (const k of keys) {
      const v = item[k]!;
      if (TABLE_SKIP_KEYS.has(k) || v === null || typeof v === 'object') continue;
      row.set(terminalLine(k ? k[0]!.toUpperCase() + k.slice(1) : k), v);
    }
  } else {
    row.set('Result', item);
  }
  return row;
}

/** knack's message when a result has nothing a table can show. */
export class TableUnavailableError extends Error {
  constructor() {
    super('Table output unavailable. Use the --query option to specify an appropriate query. Use --debug for more info.');
  }
}
