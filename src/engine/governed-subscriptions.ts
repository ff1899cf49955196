import { hasManagementGroups, isGovernedSubscriptionId, type RulesConfig, withResolvedSubscriptions } from '../config';
import { AutopilotError } from '../errors';
import type { ManagementGroupPort } from './ports';

/**
 * How long a resolution of the management groups is trusted. Subscriptions move between groups rarely,
 * and a move out must stop governance soon: five minutes bounds both the stale window and the cost
 * (one descendants call per group per five minutes, whatever the event rate).
 */
export const MANAGEMENT_GROUP_TTL_MS = 5 * 60_000;

export interface GovernedSubscriptionsOptions {
  ttlMs?: number;
  now?: () => number;
}

interface Resolution {
  subscriptions: ReadonlySet<string>;
  at: number;
}

/**
 * The rules' governed subscriptions: those listed, plus every subscription under the listed management
 * groups as ARM reports it now. The resolution is cached for `ttlMs` and shared by concurrent callers;
 * past that it is asked for again and an expired one is never used, so a subscription moved out of a
 * group stops being governed within the TTL, even while ARM cannot be reached (the caller then fails,
 * transiently, rather than act on a stale answer).
 */
export class GovernedSubscriptions {
  private resolution?: Resolution;
  private inFlight?: Promise<Resolution>;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly config: RulesConfig,
    private readonly port: ManagementGroupPort | undefined,
    options: GovernedSubscriptionsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? MANAGEMENT_GROUP_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The management groups the rules name (empty when none). */
  get managementGroups(): readonly string[] {
    return this.config.scope.managementGroups ?? [];
  }

  /** The rules with what is known without ARM: the listed subscriptions, plus a fresh cached resolution. */
  known(): RulesConfig {
    const fresh = this.fresh();
    return fresh ? withResolvedSubscriptions(this.config, fresh.subscriptions) : this.config;
  }

  /** True when governance of `subscriptionId` can only be told by resolving the management groups. */
  undecided(subscriptionId: string): boolean {
    if (!hasManagementGroups(this.config) || isGovernedSubscriptionId(subscriptionId, this.config.scope.subscriptions)) return false;
    return this.fresh() === undefined;
  }

  /**
   * The rules as they apply to a resource in `subscriptionId`: no ARM call when the subscription is
   * listed or the cached resolution is fresh.
   */
  async configFor(subscriptionId: string | undefined, signal: AbortSignal): Promise<RulesConfig> {
    if (!hasManagementGroups(this.config)) return this.config;
    if (subscriptionId && isGovernedSubscriptionId(subscriptionId, this.config.scope.subscriptions)) return this.known();
    return this.resolved(signal);
  }

  /** The rules with every subscription under the management groups (resolved if the cache is stale). */
  async resolved(signal: AbortSignal): Promise<RulesConfig> {
    if (!hasManagementGroups(this.config)) return this.config;
    const resolution = this.fresh() ?? (await this.resolve(signal));
    return withResolvedSubscriptions(this.config, resolution.subscriptions);
  }

  /** Every subscription under the management groups now (resolved if the cache is stale); empty without groups. */
  async underManagementGroups(signal: AbortSignal): Promise<ReadonlySet<string>> {
    if (!hasManagementGroups(this.config)) return new Set();
    return (this.fresh() ?? (await this.resolve(signal))).subscriptions;
  }

  private fresh(): Resolution | undefined {
    const r = this.resolution;
    return r && this.now() - r.at < this.ttlMs ? r : undefined;
  }

  private resolve(signal: AbortSignal): Promise<Resolution> {
    if (!this.port) {
      return Promise.reject(
        new AutopilotError('ManagementGroupsNotSupported', 'the rules name scope.managementGroups but no management group reader is wired'),
      );
    }
    const port = this.port;
    this.inFlight ??= (async () => {
      try {
        const at = this.now();
        const lists = await Promise.all(this.managementGroups.map((g) => port.subscriptionsUnder(g, signal)));
        const resolution = { subscriptions: new Set(lists.flat().map((s) => s.toLowerCase())), at };
        this.resolution = resolution;
        return resolution;
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}
