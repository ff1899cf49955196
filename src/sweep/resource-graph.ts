import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { isRestError } from '@azure/core-rest-pipeline';
import { abortableSleep } from '../abortable-sleep';
import { type ArmConnection, armClientOptions } from '../azure/clients';
import { retryAfterMs } from '../azure/retry-after';
import { AutopilotError } from '../errors';

/** Resource Graph answers at most this many rows per page. */
export const RESOURCE_GRAPH_PAGE_SIZE = 1000;
/** Subscriptions per request: the service's documented batch size. */
const SUBSCRIPTIONS_PER_REQUEST = 1000;
/** Management groups per request: what the Azure CLI sends at most (azure-cli-extensions resource-graph `custom.py`). */
const MANAGEMENT_GROUPS_PER_REQUEST = 10;

export interface GraphQueryRequest {
  query: string;
  /** Empty when the request names management groups instead (never both, like the Azure CLI). */
  subscriptions: readonly string[];
  /** Management group ids: the query reads every subscription under each, at any depth. */
  managementGroups?: readonly string[];
  skipToken?: string;
  top?: number;
  /** Rows to skip from the start of the result (`options.$skip`): how a scan resumes after its token expired. */
  skip?: number;
}

export interface GraphQueryPage {
  rows: Array<Record<string, unknown>>;
  skipToken?: string;
  /** `x-ms-user-quota-remaining`, when sent. */
  quotaRemaining?: number;
  /** `x-ms-user-quota-resets-after` in ms, when sent. */
  quotaResetsAfterMs?: number;
  /** `totalRecords`: rows matching the query over all pages (QueryResponse, resourcegraph.json 2024-04-01). */
  totalRecords?: number;
}

/** One Resource Graph call. A 429 throws `ResourceGraphThrottledError`. */
export interface GraphQueryPort {
  query(request: GraphQueryRequest, signal?: AbortSignal): Promise<GraphQueryPage>;
}

export class ResourceGraphThrottledError extends AutopilotError {
  constructor(
    readonly resetsAfterMs: number | undefined,
    message: string,
  ) {
    super('ResourceGraphThrottled', message);
  }
}

/**
 * A 400 naming the `$skipToken` of a next-page request. Resource Graph documents no lifetime for its
 * tokens, and a scan paced by the quota takes longer than a token may live (a 1,000-page scan at 15
 * queries per 5 s is over 15 minutes): the reader resumes with `$skip` instead of failing the sweep.
 */
export class ResourceGraphSkipTokenRejectedError extends AutopilotError {
  constructor(message: string) {
    super('ResourceGraphSkipTokenRejected', message);
  }
}

/** `hh:mm:ss` (optionally with fractional seconds) → ms. */
export function parseQuotaResetsAfter(value: string | undefined | null): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return Math.round(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000);
}

function quotaFrom(headers: { get(name: string): string | undefined }): Pick<GraphQueryPage, 'quotaRemaining' | 'quotaResetsAfterMs'> {
  const remaining = headers.get('x-ms-user-quota-remaining');
  return {
    quotaRemaining: remaining !== undefined && remaining !== '' && Number.isFinite(Number(remaining)) ? Number(remaining) : undefined,
    quotaResetsAfterMs: parseQuotaResetsAfter(headers.get('x-ms-user-quota-resets-after')),
  };
}

/** Resource Graph through `@azure/arm-resourcegraph` v5, with the app's ARM connection (endpoint, CA, audience). */
export class SdkGraphQueryPort implements GraphQueryPort {
  private readonly client: ResourceGraphClient;

  constructor(connection: ArmConnection) {
    // Without the ARM throttle gate: Resource Graph has its own per-user quota, handled by ResourceGraphReader.
    const options = armClientOptions({ ...connection, throttleGate: undefined });
    // This client (a TypeSpec-generated one) reads the token audience from `credentials.scopes`.
    this.client = new ResourceGraphClient(connection.credential, { ...options, credentials: { scopes: options.credentialScopes } });
  }

  async query(request: GraphQueryRequest, signal?: AbortSignal): Promise<GraphQueryPage> {
    let quota: Pick<GraphQueryPage, 'quotaRemaining' | 'quotaResetsAfterMs'> = {};
    try {
      const response = await this.client.resources(
        {
          query: request.query,
          ...(request.managementGroups?.length
            ? { managementGroups: [...request.managementGroups] }
            : { subscriptions: [...request.subscriptions] }),
          options: {
            resultFormat: 'objectArray',
            ...(request.skipToken ? { skipToken: request.skipToken } : {}),
            ...(request.top ? { top: request.top } : {}),
            ...(request.skip ? { skip: request.skip } : {}),
          },
        },
        { abortSignal: signal, onResponse: (raw) => void (quota = quotaFrom(raw.headers)) },
      );
      return {
        rows: (response.data ?? []) as Array<Record<string, unknown>>,
        skipToken: response.skipToken || undefined,
        totalRecords: response.totalRecords,
        ...quota,
      };
    } catch (e) {
      if (isRestError(e) && e.statusCode === 429) {
        const headers = e.response?.headers;
        const reset = parseQuotaResetsAfter(headers?.get('x-ms-user-quota-resets-after'));
        throw new ResourceGraphThrottledError(reset ?? (retryAfterMs(headers?.get('retry-after')) || undefined), e.message);
      }
      if (isRestError(e) && e.statusCode === 400 && request.skipToken && /skip ?token/i.test(JSON.stringify(e.details ?? e.message))) {
        throw new ResourceGraphSkipTokenRejectedError(`Resource Graph rejected the $skipToken: ${e.message}`);
      }
      if (isRestError(e))
        throw new AutopilotError('ResourceGraphQueryFailed', `Resource Graph: ${e.statusCode ?? ''} ${e.code ?? ''} ${e.message}`, {
          cause: e,
        });
      throw e;
    }
  }
}

export interface ReaderStats {
  /** Resource Graph calls made, 429s included. */
  calls: number;
  /** Scans resumed with `$skip` after their `$skipToken` was rejected (expired). */
  resumed?: number;
  /** Times the reader waited for the quota window to reset (proactively or after a 429). */
  quotaWaits: number;
  quotaWaitedMs: number;
}

export interface ReaderOptions {
  pageSize?: number;
  /** Give up after this many 429s in a row (the quota never came back). */
  maxConsecutiveThrottles?: number;
  /** Used when a 429 names no reset time. */
  defaultThrottleWaitMs?: number;
  signal?: AbortSignal;
  onWait?: (ms: number, why: 'quota-exhausted' | 'throttled') => void;
}

/**
 * Streams the rows of a query page by page (`$skipToken`), so a scan of any size holds one page at a
 * time. Paces itself by the per-user quota headers: when `x-ms-user-quota-remaining` reaches 0 it
 * waits `x-ms-user-quota-resets-after` before the next call; a 429 is waited out the same way.
 */
export class ResourceGraphReader {
  readonly stats: ReaderStats = { calls: 0, quotaWaits: 0, quotaWaitedMs: 0 };
  /** Shared by every query of this reader: the quota is per user, not per query. */
  private notBefore = 0;

  constructor(
    private readonly port: GraphQueryPort,
    private readonly options: ReaderOptions = {},
  ) {}

  /**
   * The query over `subscriptions` (in batches), then over `managementGroups` (in batches, the management-group scope).
   * `onBatchTotal` gets each batch's `totalRecords` from its first page (for progress estimates).
   */
  async *pages(
    query: string,
    subscriptions: readonly string[],
    managementGroups: readonly string[] = [],
    onBatchTotal?: (totalRecords: number) => void,
  ): AsyncGenerator<Array<Record<string, unknown>>> {
    const top = this.options.pageSize ?? RESOURCE_GRAPH_PAGE_SIZE;
    const batches: Array<Pick<GraphQueryRequest, 'subscriptions' | 'managementGroups'>> = [];
    for (let i = 0; i < subscriptions.length; i += SUBSCRIPTIONS_PER_REQUEST)
      batches.push({ subscriptions: subscriptions.slice(i, i + SUBSCRIPTIONS_PER_REQUEST) });
    for (let i = 0; i < managementGroups.length; i += MANAGEMENT_GROUPS_PER_REQUEST)
      batches.push({ subscriptions: [], managementGroups: managementGroups.slice(i, i + MANAGEMENT_GROUPS_PER_REQUEST) });
    for (const batch of batches) {
      let skipToken: string | undefined;
      let served = 0;
      let resumedAt = -1;
      do {
        let page: GraphQueryPage;
        try {
          page = await this.call({ query, ...batch, skipToken, top });
        } catch (e) {
          // The query is ordered (Resource Graph pages need it), so the same query from row `served`
          // continues the scan; rows that moved meanwhile are the next sweep's. Once per position, so
          // a service that rejects every token cannot loop.
          if (!(e instanceof ResourceGraphSkipTokenRejectedError) || resumedAt === served) throw e;
          resumedAt = served;
          this.stats.resumed = (this.stats.resumed ?? 0) + 1;
          page = await this.call({ query, ...batch, top, skip: served });
        }
        if (!skipToken && served === 0 && page.totalRecords !== undefined) onBatchTotal?.(page.totalRecords);
        skipToken = page.skipToken;
        served += page.rows.length;
        if (page.rows.length > 0) yield page.rows;
      } while (skipToken);
    }
  }

  /** One query (one page), paced by the same per-user quota as every page of this reader. */
  query(request: GraphQueryRequest): Promise<GraphQueryPage> {
    return this.call(request);
  }

  private async call(request: GraphQueryRequest): Promise<GraphQueryPage> {
    let throttles = 0;
    for (;;) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) await this.sleep(wait, 'quota-exhausted');
      this.stats.calls++;
      try {
        const page = await this.port.query(request, this.options.signal);
        if (page.quotaRemaining !== undefined && page.quotaRemaining <= 0) {
          this.notBefore = Date.now() + (page.quotaResetsAfterMs ?? this.options.defaultThrottleWaitMs ?? 5000);
        }
        return page;
      } catch (e) {
        if (!(e instanceof ResourceGraphThrottledError)) throw e;
        throttles++;
        if (throttles > (this.options.maxConsecutiveThrottles ?? 10)) throw e;
        await this.sleep(e.resetsAfterMs ?? this.options.defaultThrottleWaitMs ?? 5000, 'throttled');
      }
    }
  }

  private async sleep(ms: number, why: 'quota-exhausted' | 'throttled'): Promise<void> {
    this.stats.quotaWaits++;
    this.stats.quotaWaitedMs += ms;
    this.options.onWait?.(ms, why);
    await abortableSleep(ms, this.options.signal);
  }
}
