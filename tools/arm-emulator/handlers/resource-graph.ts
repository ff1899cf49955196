import { randomUUID } from 'node:crypto';
import { ArmError } from '../arm-error';
import type { GeneratedEstate } from '../generated-estate';
import { type CompiledQuery, compareByOrder, compileKql, type JoinCache, KqlError, runStages, type Stage } from '../kql';
import { readView } from '../resource-types';
import type { EmulatorState, RoleAssignmentRecord, StoredResource } from '../state';
import type { EmulatorRequest, EmulatorResponse, HandlerContext } from './context';
import { DAPR_COMPONENT_TYPE, daprComponentView } from './dapr-components';
import { roleAssignmentBody } from './role-assignments';

export const RESOURCE_GRAPH_API_VERSIONS = ['2021-03-01', '2022-10-01', '2024-04-01'];
/** Resource Graph's page limit, and its default page size when `$top` is absent. */
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;
/**
 * How long a `$skipToken` stays valid, from its query's first page. Resource Graph documents no
 * lifetime; the emulator assumes a finite one (stricter than never expiring), so a scan paced by the
 * quota for longer than this meets an expired token, as a 1,000-page sweep does.
 */
const CURSOR_TTL_MS = 10 * 60_000;
const MAX_CURSORS = 64;

type Row = Record<string, unknown>;

/** Resource Graph's error envelope: a BadRequest with details naming the real cause. */
export class ResourceGraphError extends ArmError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly details: Array<{ code: string; message: string }>,
    headers: Record<string, string> = {},
  ) {
    super(status, code, message, headers);
  }

  override toBody(): { error: { code: string; message: string; details?: Array<{ code: string; message: string }> } } {
    return { error: { code: this.code, message: this.message, ...(this.details.length > 0 ? { details: this.details } : {}) } };
  }
}

export interface ResourceGraphQuotaSettings {
  /** Queries allowed per window per user; the docs' example is 15 per 5 seconds. */
  limit: number;
  windowMs: number;
}

interface Cursor {
  rows: Row[];
  expiresAt: number;
}

/**
 * A `resources` query over a generated estate: the result is never materialized; each page runs the
 * row-local stages over the estate's rows from the page's position, which the `$skipToken` carries.
 */
interface LazyCursor {
  lazy: true;
  total: number;
  rowStages: Stage[];
  order?: Extract<Stage, { kind: 'order' }>;
  subscriptions?: Set<string>;
  joins: JoinCache;
  /** The last row served and the position after it, to check the estate's order page to page. */
  last?: { row: Row; position: number };
  expiresAt: number;
  result: EstateResult;
}

/**
 * What the emulator learnt about one query's result over the (immutable) generated estate: its size,
 * and where each page ended (result rows before it → estate position), so a query that resumes with
 * `$skip` starts where a page ended instead of re-running the stages over every row before it.
 */
interface EstateResult {
  total: number;
  pageEnds: Map<number, { position: number; row: Row }>;
}

/** hh:mm:ss, as `x-ms-user-quota-resets-after` carries it (rounded up to whole seconds). */
function hhmmss(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

/**
 * The emulator's Azure Resource Graph: the `resources` and `authorizationresources` tables over the
 * emulator's state, the project's queries run by a KQL evaluator, `$skipToken` paging over a
 * snapshot of the result, and the per-user quota with its headers and 429s.
 */
export class ResourceGraphService {
  /** Set to undefined to turn the quota off (benchmarks). */
  quota: ResourceGraphQuotaSettings | undefined = { limit: 15, windowMs: 5000 };
  /** `$skipToken` lifetime (tests shorten it). */
  cursorTtlMs = CURSOR_TTL_MS;
  /** Queries answered (200s), and 429s sent. */
  queries = 0;
  throttled = 0;
  private readonly windows = new Map<string, { start: number; used: number }>();
  private readonly cursors = new Map<string, Cursor | LazyCursor>();
  private estate?: GeneratedEstate;
  private lag = 0;
  private estateResults = new Map<string, EstateResult>();
  private roleIndex?: { version: number; byPrincipal: Map<string, RoleAssignmentRecord[]> };

  constructor(private readonly state?: EmulatorState) {}

  /**
   * How far (ms) the `resources` and `authorizationresources` tables lag behind ARM. Resource Graph is
   * an index fed by ARM's changes, not ARM itself: "95% of all changes to be present in resource graph
   * under 30s. There is no upper bound on delay" (Azure/azure-dev issue 540, quoting the service's
   * guarantee), so a query right after a delete or a re-create can answer with the old state.
   * 0 (the default): no lag. Changes made before the lag was set are not remembered: set it before the
   * changes a test looks at. Resource groups and subscriptions (`resourcecontainers`) do not lag.
   */
  get lagMs(): number {
    return this.lag;
  }

  set lagMs(ms: number) {
    this.lag = Math.max(0, ms);
    if (!this.state) return;
    // Keep a little more than the lag: a query reads the view as of (now - lag).
    const retain = this.lag > 0 ? this.lag + 1000 : 0;
    this.state.resources.remember(retain);
    this.state.roleAssignments.remember(retain);
  }

  /**
   * The state as the lagging index sees it now: the same state, its resources and role assignments as
   * they were `lag` ago (an overlay; the tables read them as they read the live ones).
   */
  private indexed(live: HandlerContext): HandlerContext {
    if (this.lag === 0) return live;
    const at = Date.now() - this.lag;
    const state: EmulatorState = Object.create(live.state, {
      resources: { value: live.state.resources.asOf(at) },
      roleAssignments: { value: live.state.roleAssignments.asOf(at) },
    });
    return { ...live, state };
  }

  setQuota(quota: ResourceGraphQuotaSettings | undefined): void {
    this.quota = quota;
    this.windows.clear();
  }

  /** Serve `resources` (and the estate's grants in `authorizationresources`) from a generated estate; see GeneratedEstate. */
  useGeneratedEstate(estate: GeneratedEstate | undefined): void {
    this.estate = estate;
    this.estateResults.clear();
    this.cursors.clear();
  }

  /**
   * Takes one query from the caller's window; returns the quota headers, or throws the 429.
   * Learn, "Guidance for throttled requests in Azure Resource Graph"
   * (https://learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests):
   * a quota per user and time window ("for example, a user can send at most 15 queries within every
   * 5-second window"), and in every query response `x-ms-user-quota-remaining` (int, query count) and
   * `x-ms-user-quota-resets-after` (hh:mm:ss). Past the quota: 429 RateLimiting.
   */
  takeQuota(principalId: string, now = Date.now()): Record<string, string> {
    if (!this.quota) return {};
    const { limit, windowMs } = this.quota;
    let w = this.windows.get(principalId);
    if (!w || now - w.start >= windowMs) {
      w = { start: now, used: 0 };
      this.windows.set(principalId, w);
    }
    const resetsAfter = hhmmss(w.start + windowMs - now);
    if (w.used >= limit) {
      this.throttled++;
      throw new ResourceGraphError(
        429,
        'RateLimiting',
        `Please provide below info when asking for support: timestamp = ${new Date(now).toISOString()}, correlationId = ${randomUUID()}.`,
        [
          {
            code: 'RateLimiting',
            message: `Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.`,
          },
        ],
        { 'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': resetsAfter },
      );
    }
    w.used++;
    return { 'x-ms-user-quota-remaining': String(limit - w.used), 'x-ms-user-quota-resets-after': resetsAfter };
  }

  handle(live: HandlerContext, req: EmulatorRequest): EmulatorResponse {
    const ctx = this.indexed(live);
    if (req.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `The HTTP method '${req.method}' is not supported.`);
    const quotaHeaders = this.takeQuota(req.principal.id);
    const body = req.body ?? {};
    if (typeof body.query !== 'string' || body.query.trim() === '') throw invalid('The query is missing or empty.');
    const options = (body.options ?? {}) as { $top?: number; $skip?: number; $skipToken?: string; resultFormat?: string };
    if (options.resultFormat === 'table')
      throw invalid("resultFormat 'table' is not supported by the emulator; use 'objectArray'.", 'UnsupportedResultFormat');
    const top = Math.min(MAX_PAGE, Math.max(1, Number(options.$top ?? (options.$skipToken ? MAX_PAGE : DEFAULT_PAGE))));
    let rows: Row[];
    let offset: number;
    if (options.$skipToken) {
      const token = decodeToken(options.$skipToken);
      const cursor = token && this.cursors.get(token.cursor);
      if (!token || !cursor || cursor.expiresAt < Date.now())
        throw invalid('The $skipToken is invalid or has expired.', 'InvalidSkipToken');
      this.cursors.delete(token.cursor);
      this.cursors.set(token.cursor, cursor);
      if ('lazy' in cursor) return this.lazyPage(ctx, cursor, token.cursor, token.offset, top, quotaHeaders);
      rows = cursor.rows;
      offset = token.offset;
    } else {
      const compiled = compile(body.query);
      const subscriptions = scopeOf(ctx, body.subscriptions, body.managementGroups);
      if (this.estate && compiled.table === 'resources') {
        const cursor = this.lazyCursor(ctx, compiled, subscriptions, `${[...(subscriptions ?? [])].sort().join(',')}|${body.query}`);
        const id = this.keep(cursor);
        return this.lazyPage(ctx, cursor, id, 0, top, quotaHeaders, Number(options.$skip ?? 0));
      }
      rows = this.evaluate(ctx, compiled, subscriptions);
      offset = Number(options.$skip ?? 0);
    }
    const page = rows.slice(offset, offset + top);
    const next = offset + page.length;
    let skipToken: string | undefined;
    if (next < rows.length) {
      const cursor = options.$skipToken
        ? decodeToken(options.$skipToken)!.cursor
        : this.keep({ rows, expiresAt: Date.now() + this.cursorTtlMs });
      skipToken = Buffer.from(JSON.stringify({ cursor, offset: next })).toString('base64');
    }
    this.queries++;
    return {
      status: 200,
      headers: quotaHeaders,
      body: {
        totalRecords: rows.length,
        count: page.length,
        resultTruncated: 'false',
        ...(skipToken ? { $skipToken: skipToken } : {}),
        data: page,
        facets: [],
      },
    };
  }

  private keep(cursor: Cursor | LazyCursor): string {
    const now = Date.now();
    for (const [id, c] of this.cursors) if (c.expiresAt < now) this.cursors.delete(id);
    // Least recently used first: a long scan's cursor stays while short queries come and go.
    while (this.cursors.size >= MAX_CURSORS) this.cursors.delete(this.cursors.keys().next().value!);
    const id = randomUUID();
    this.cursors.set(id, cursor);
    return id;
  }

  /**
   * A query over the generated estate. Only row-local stages (where, extend, project, join against a
   * stored table) and one final `order by` are supported; the estate yields rows in that order, which
   * is checked on every row (the count pass below checks the whole result once), so a query whose
   * order the estate does not produce fails loudly instead of paging in the wrong order.
   */
  private lazyCursor(ctx: HandlerContext, compiled: CompiledQuery, subscriptions: Set<string> | undefined, resultKey: string): LazyCursor {
    const last = compiled.stages.at(-1);
    const order = last?.kind === 'order' ? last : undefined;
    const rowStages = order ? compiled.stages.slice(0, -1) : compiled.stages;
    if (rowStages.some((s) => s.kind === 'order' || s.kind === 'take' || s.kind === 'summarize'))
      throw invalid(
        'The emulator pages a generated estate only for row-local stages and one final order by.',
        'UnsupportedOnGeneratedEstate',
      );
    const known = this.estateResults.get(resultKey);
    const result: EstateResult = known ?? { total: 0, pageEnds: new Map() };
    const cursor: LazyCursor = {
      lazy: true,
      total: result.total,
      rowStages,
      order,
      subscriptions,
      joins: new Map(),
      expiresAt: Date.now() + this.cursorTtlMs,
      result,
    };
    if (known) return cursor;
    // totalRecords, as Resource Graph reports it on every page: one pass that also checks the order.
    let previous: Row | undefined;
    for (const r of this.estate!.resources(0)) {
      for (const row of this.estateRow(ctx, cursor, r)) {
        this.checkOrder(cursor, previous, row);
        previous = row;
        cursor.total++;
      }
    }
    result.total = cursor.total;
    this.estateResults.set(resultKey, result);
    return cursor;
  }

  private estateRow(ctx: HandlerContext, cursor: LazyCursor, r: StoredResource): Row[] {
    const sub = /^\/subscriptions\/([^/]+)/i.exec(r.id)?.[1]?.toLowerCase() ?? '';
    if (cursor.subscriptions && !cursor.subscriptions.has(sub)) return [];
    return runStages([resourceRow(ctx, r, sub)], cursor.rowStages, (name) => this.table(ctx, name.toLowerCase(), undefined), cursor.joins);
  }

  private checkOrder(cursor: LazyCursor, previous: Row | undefined, row: Row): void {
    if (cursor.order && previous && compareByOrder(cursor.order, previous, row) > 0) {
      throw new ArmError(
        500,
        'EmulatorEstateOrder',
        `The generated estate does not yield rows in the query's order (${String(previous.id)} before ${String(row.id)}).`,
      );
    }
  }

  private lazyPage(
    ctx: HandlerContext,
    cursor: LazyCursor,
    cursorId: string,
    from: number,
    top: number,
    headers: Record<string, string>,
    skip = 0,
  ): EmulatorResponse {
    const page: Row[] = [];
    // `$skip` to where an earlier page of this result ended: start there.
    const resumeAt = skip > 0 ? cursor.result.pageEnds.get(skip) : undefined;
    if (resumeAt) {
      from = resumeAt.position;
      skip = 0;
    }
    let position = from;
    let previous = resumeAt?.row ?? (cursor.last?.position === from ? cursor.last.row : undefined);
    const before = resumeAt
      ? [...cursor.result.pageEnds].find(([, e]) => e === resumeAt)![0]
      : from === 0
        ? 0
        : [...cursor.result.pageEnds].find(([, e]) => e.position === from)?.[0];
    let consumed = 0;
    let more = false;
    for (const r of this.estate!.resources(from)) {
      const out = this.estateRow(ctx, cursor, r);
      // Pages end between estate rows, so the position in the $skipToken is exact.
      if (page.length > 0 && page.length + out.length > top) {
        more = true;
        break;
      }
      position++;
      for (const row of out) {
        this.checkOrder(cursor, previous, row);
        previous = row;
        consumed++;
        if (skip > 0) skip--;
        else page.push(row);
      }
      if (page.length >= top) {
        more = position < this.estate!.size;
        break;
      }
    }
    if (previous) cursor.last = { row: previous, position };
    if (previous && before !== undefined && more) cursor.result.pageEnds.set(before + consumed, { position, row: previous });
    this.queries++;
    const skipToken = more ? Buffer.from(JSON.stringify({ cursor: cursorId, offset: position })).toString('base64') : undefined;
    return {
      status: 200,
      headers,
      body: {
        totalRecords: cursor.total,
        count: page.length,
        resultTruncated: 'false',
        ...(skipToken ? { $skipToken: skipToken } : {}),
        data: page,
        facets: [],
      },
    };
  }

  private table(ctx: HandlerContext, name: string, subscriptions: Set<string> | undefined): Row[] {
    if (name === 'resources') {
      if (this.estate) throw invalid('The emulator does not join against a generated estate.', 'UnsupportedOnGeneratedEstate');
      return this.resourceRows(ctx, subscriptions, undefined);
    }
    if (name === 'authorizationresources') return this.authorizationRows(ctx, subscriptions, undefined);
    if (name === 'resourcecontainers') return resourceContainerRows(ctx, subscriptions);
    throw invalid(
      `The table '${name}' is not supported by the emulator (supported: resources, resourcecontainers, authorizationresources).`,
      'UnknownTable',
    );
  }

  private evaluate(ctx: HandlerContext, compiled: CompiledQuery, subscriptions: Set<string> | undefined): Row[] {
    const lookup = (column: string) => compiled.lookups.find((l) => l.column === column)?.values;
    const candidates =
      compiled.table === 'authorizationresources'
        ? this.authorizationRows(ctx, subscriptions, lookup('properties.principalId'), lookup('properties.createdBy'))
        : compiled.table === 'resources'
          ? this.resourceRows(ctx, subscriptions, lookup('type'))
          : this.table(ctx, compiled.table, subscriptions);
    return runStages(candidates, compiled.stages, (name) => this.table(ctx, name.toLowerCase(), undefined));
  }

  /** One pass over the resources; only rows of the wanted types are built. */
  private resourceRows(ctx: HandlerContext, subscriptions: Set<string> | undefined, types: string[] | undefined): Row[] {
    const wantedTypes = types && new Set(types);
    const rows: Row[] = [];
    for (const r of ctx.state.resources.values()) {
      if (wantedTypes && !wantedTypes.has(String(r.body.type).toLowerCase())) continue;
      const sub = /^\/subscriptions\/([^/]+)/i.exec(r.id)?.[1]?.toLowerCase();
      if (subscriptions && (!sub || !subscriptions.has(sub))) continue;
      rows.push(resourceRow(ctx, r, sub ?? ''));
    }
    return rows;
  }

  /** Role assignments as Resource Graph shows them, indexed by principal once per change of the store. */
  private authorizationRows(
    ctx: HandlerContext,
    subscriptions: Set<string> | undefined,
    principals: string[] | undefined,
    createdBy?: string[],
  ): Row[] {
    const store = ctx.state.roleAssignments;
    if (!this.roleIndex || this.roleIndex.version !== store.version) {
      const byPrincipal = new Map<string, RoleAssignmentRecord[]>();
      for (const a of store.values()) {
        const k = a.principalId.toLowerCase();
        const list = byPrincipal.get(k);
        if (list) list.push(a);
        else byPrincipal.set(k, [a]);
      }
      this.roleIndex = { version: store.version, byPrincipal };
    }
    // The generated estate's grants record `createdBy: 'generated'`: a query by creator is answered from the live store.
    const byCreator = !principals && createdBy ? new Set(createdBy) : undefined;
    if (!principals && !byCreator && this.estate)
      throw invalid(
        "The emulator reads a generated estate's role assignments only by principal (where properties.principalId in~ (...)).",
        'UnsupportedOnGeneratedEstate',
      );
    const records = (
      principals
        ? principals.flatMap((p) => this.roleIndex!.byPrincipal.get(p.toLowerCase()) ?? this.estate?.roleAssignmentsOf([p]) ?? [])
        : [...store.values()]
    ).filter((a) => principals || !byCreator || byCreator.has(a.createdBy.toLowerCase()));
    const rows: Row[] = [];
    for (const a of records) {
      const sub = /^\/subscriptions\/([^/]+)/i.exec(a.scope)?.[1]?.toLowerCase() ?? '';
      if (subscriptions && !subscriptions.has(sub)) continue;
      const body = roleAssignmentBody(a);
      rows.push({
        id: a.id,
        name: a.name,
        type: 'microsoft.authorization/roleassignments',
        tenantId: ctx.state.tenantId,
        kind: '',
        location: '',
        resourceGroup: (/\/resourceGroups\/([^/]+)/i.exec(a.scope)?.[1] ?? '').toLowerCase(),
        subscriptionId: sub,
        managedBy: '',
        sku: null,
        plan: null,
        properties: body.properties,
        tags: null,
        identity: null,
        zones: null,
        extendedLocation: null,
      });
    }
    return rows;
  }
}

/** A `resources` row: ARM's body plus Resource Graph's columns (type and resource group in lower case). */
function resourceRow(ctx: HandlerContext, r: StoredResource, subscriptionId: string): Row {
  // Resource Graph shows what the RP's GET shows: no write-only secrets (Dapr components' secret values included).
  const b = String(r.body.type).toLowerCase() === DAPR_COMPONENT_TYPE.toLowerCase() ? daprComponentView(r.body) : readView(r.body);
  return {
    id: r.id,
    name: b.name,
    type: String(b.type).toLowerCase(),
    tenantId: ctx.state.tenantId,
    kind: b.kind ?? '',
    location: b.location ?? '',
    resourceGroup: (/\/resourceGroups\/([^/]+)/i.exec(r.id)?.[1] ?? '').toLowerCase(),
    subscriptionId: /^\/subscriptions\/([^/]+)/i.exec(r.id)?.[1] ?? subscriptionId,
    managedBy: b.managedBy ?? '',
    sku: b.sku ?? null,
    plan: b.plan ?? null,
    properties: b.properties ?? null,
    tags: b.tags ?? null,
    identity: b.identity ?? null,
    zones: b.zones ?? null,
    extendedLocation: b.extendedLocation ?? null,
  };
}

/**
 * The `resourcecontainers` table: subscriptions and resource groups, with ARM's `managedBy` (an AKS
 * node resource group names its cluster there). Type and resource group in lower case, like `resources`.
 */
function resourceContainerRows(ctx: HandlerContext, subscriptions: Set<string> | undefined): Row[] {
  const rows: Row[] = [];
  for (const g of ctx.state.resourceGroups.values()) {
    const sub = /^\/subscriptions\/([^/]+)/i.exec(g.id)?.[1] ?? '';
    if (subscriptions && !subscriptions.has(sub.toLowerCase())) continue;
    const b = g.body;
    rows.push({
      id: g.id,
      name: b.name,
      type: 'microsoft.resources/subscriptions/resourcegroups',
      tenantId: ctx.state.tenantId,
      kind: '',
      location: b.location ?? '',
      resourceGroup: String(b.name).toLowerCase(),
      subscriptionId: sub,
      managedBy: b.managedBy ?? '',
      sku: null,
      plan: null,
      properties: b.properties ?? null,
      tags: b.tags ?? null,
      identity: null,
      zones: null,
      extendedLocation: null,
    });
  }
  for (const s of ctx.state.subscriptions.values()) {
    if (subscriptions && !subscriptions.has(s.subscriptionId.toLowerCase())) continue;
    rows.push({
      id: `/subscriptions/${s.subscriptionId}`,
      name: s.displayName,
      type: 'microsoft.resources/subscriptions',
      tenantId: ctx.state.tenantId,
      kind: '',
      location: '',
      resourceGroup: '',
      subscriptionId: s.subscriptionId,
      managedBy: '',
      properties: { state: 'Enabled' },
      tags: null,
    });
  }
  return rows;
}

function compile(query: string): CompiledQuery {
  try {
    return compileKql(query);
  } catch (e) {
    if (e instanceof KqlError) throw invalid(e.message, e.code);
    throw e;
  }
}

/** Most management groups per query: the Azure CLI (azure-cli-extensions resource-graph `custom.py`, `__MANAGEMENT_GROUP_LIMIT = 10`) sends no more. */
const MAX_MANAGEMENT_GROUPS = 10;

/**
 * The subscriptions a query reads. `managementGroups` (QueryRequest in resourcegraph.json 2024-04-01)
 * reads every subscription under each group at any depth. Stricter than the service may be: a request
 * naming both lists, more than ten groups or an unknown group is refused (the Azure CLI never sends
 * both: with management groups it leaves `subscriptions` out).
 */
function scopeOf(ctx: HandlerContext, subscriptions: unknown, managementGroups: unknown): Set<string> | undefined {
  if (!Array.isArray(managementGroups) || managementGroups.length === 0) return subscriptionsOf(subscriptions);
  if (Array.isArray(subscriptions) && subscriptions.length > 0)
    throw invalid('A query names either subscriptions or managementGroups, not both.', 'InvalidQueryScope');
  if (managementGroups.length > MAX_MANAGEMENT_GROUPS)
    throw invalid(`At most ${MAX_MANAGEMENT_GROUPS} management groups per query.`, 'TooManyManagementGroups');
  const out = new Set<string>();
  for (const g of managementGroups) {
    if (!ctx.state.managementGroups.has(String(g).toLowerCase()))
      throw invalid(`Management group '${String(g)}' was not found or is not accessible.`, 'ManagementGroupNotFound');
    for (const d of ctx.state.descendantsOf(String(g))) if (d.kind === 'subscription') out.add(d.name.toLowerCase());
  }
  return out;
}

function subscriptionsOf(value: unknown): Set<string> | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return new Set(value.map((s) => String(s).toLowerCase()));
}

function decodeToken(token: string): { cursor: string; offset: number } | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    return typeof t.cursor === 'string' && Number.isInteger(t.offset) ? t : undefined;
  } catch {
    return undefined;
  }
}

function invalid(detail: string, code = 'InvalidQuery'): ResourceGraphError {
  return new ResourceGraphError(
    400,
    'BadRequest',
    `Please provide below info when asking for support: timestamp = ${new Date().toISOString()}, correlationId = ${randomUUID()}.`,
    [
      {
        code: 'InvalidQuery',
        message:
          'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.',
      },
      ...(code === 'InvalidQuery' ? [] : [{ code, message: detail }]),
      ...(code === 'InvalidQuery' ? [{ code: 'InvalidQuery', message: detail }] : []),
    ],
  );
}

export function isResourceGraphPath(path: string): boolean {
  return /^\/providers\/Microsoft\.ResourceGraph\/resources$/i.test(path);
}
