import type { OperationKind } from './faults';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface BucketLimits {
  capacity: number;
  refillPerSecond: number;
}

/**
 * ARM's token buckets since the 2024 regional throttling ("Understand how Azure Resource Manager
 * throttles requests", learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
 * ms.date 2025-05-28): per subscription, per service principal and per operation type, reads 250 + 25/s,
 * writes and deletes 200 + 10/s. The tenant-level buckets have the same sizes.
 */
export const ARM_LIMITS: Record<OperationKind, BucketLimits> = {
  read: { capacity: 250, refillPerSecond: 25 },
  write: { capacity: 200, refillPerSecond: 10 },
  delete: { capacity: 200, refillPerSecond: 10 },
};

/**
 * Same page: "There are also global subscription limits that are equivalent to 15 times the individual
 * service principal limits for each operation type. The global limits apply across all service
 * principals. Requests are throttled if the global, service principal, or tenant specific limits are
 * exceeded." Real responses show it: a first read answers `...-subscription-reads: 249` with
 * `...-subscription-global-reads: 3749` (Azure/azure-powershell, src/Accounts/Accounts/help/Invoke-AzRestMethod.md),
 * a first write `...-writes: 199` with `...-global-writes: 2999`.
 */
export const GLOBAL_FACTOR = 15;

/**
 * Response headers, as ARM names them (same page, "Remaining requests"; the `-global-` variants as real
 * responses carry them). Subscription-level requests get the per-principal and the global count;
 * tenant-level requests (no subscription in the path) the tenant count.
 */
const SUBSCRIPTION_HEADER: Record<OperationKind, string> = {
  read: 'x-ms-ratelimit-remaining-subscription-reads',
  write: 'x-ms-ratelimit-remaining-subscription-writes',
  delete: 'x-ms-ratelimit-remaining-subscription-deletes',
};
const GLOBAL_HEADER: Record<OperationKind, string> = {
  read: 'x-ms-ratelimit-remaining-subscription-global-reads',
  write: 'x-ms-ratelimit-remaining-subscription-global-writes',
  delete: 'x-ms-ratelimit-remaining-subscription-global-deletes',
};
// The page lists tenant reads and writes only; deletes count as writes there (stricter: one bucket fewer).
const TENANT_HEADER: Record<OperationKind, string> = {
  read: 'x-ms-ratelimit-remaining-tenant-reads',
  write: 'x-ms-ratelimit-remaining-tenant-writes',
  delete: 'x-ms-ratelimit-remaining-tenant-writes',
};

export type ThrottleDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; retryAfterSeconds: number; headers: Record<string, string>; scope: 'principal' | 'global' };

/**
 * ARM's throttling: one token bucket per (principal, subscription, operation kind), and one per
 * (subscription, operation kind) shared by every principal (the global limit). A request needs a token
 * from both; a refused request takes none. Off by default.
 */
export class ArmThrottle {
  enabled = false;
  limits: Record<OperationKind, BucketLimits> = { ...ARM_LIMITS };
  globalLimits: Record<OperationKind, BucketLimits> = globalOf(ARM_LIMITS);
  throttled = 0;
  private readonly buckets = new Map<string, Bucket>();

  /** Per-principal limits; the global ones default to 15 times them unless given. */
  enable(limits: Partial<Record<OperationKind, BucketLimits>> = {}, globalLimits: Partial<Record<OperationKind, BucketLimits>> = {}): void {
    this.enabled = true;
    this.limits = { ...ARM_LIMITS, ...limits };
    this.globalLimits = { ...globalOf(this.limits), ...globalLimits };
    this.buckets.clear();
  }

  disable(): void {
    this.enabled = false;
  }

  take(principalId: string, subscriptionId: string, kind: OperationKind, now = Date.now()): ThrottleDecision {
    if (!this.enabled) return { allowed: true, headers: {} };
    const tenantLevel = subscriptionId === 'tenant';
    const sub = subscriptionId.toLowerCase();
    const own = this.refill(`${principalId}|${sub}|${kind}`, this.limits[kind], now);
    // Tenant-level requests have per-principal tenant buckets only.
    const global = tenantLevel ? undefined : this.refill(`*|${sub}|${kind}`, this.globalLimits[kind], now);
    const headers = (ownLeft: number, globalLeft: number | undefined): Record<string, string> =>
      tenantLevel
        ? { [TENANT_HEADER[kind]]: String(Math.max(0, Math.floor(ownLeft))) }
        : {
            [SUBSCRIPTION_HEADER[kind]]: String(Math.max(0, Math.floor(ownLeft))),
            [GLOBAL_HEADER[kind]]: String(Math.max(0, Math.floor(globalLeft ?? 0))),
          };
    const ownShort = own.tokens < 1;
    const globalShort = global !== undefined && global.tokens < 1;
    if (ownShort || globalShort) {
      this.throttled++;
      // Retry-After: whole seconds until the emptier bucket has a token again (at least 1, as ARM sends).
      const wait = (b: Bucket, l: BucketLimits) => (b.tokens < 1 ? (1 - b.tokens) / l.refillPerSecond : 0);
      const seconds = Math.max(wait(own, this.limits[kind]), global ? wait(global, this.globalLimits[kind]) : 0);
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(seconds)),
        headers: headers(own.tokens, global?.tokens),
        scope: ownShort ? 'principal' : 'global',
      };
    }
    own.tokens -= 1;
    if (global) global.tokens -= 1;
    return { allowed: true, headers: headers(own.tokens, global?.tokens) };
  }

  /** Takes tokens from a subscription's global bucket as other principals' traffic would (tests, benchmarks). */
  consumeGlobal(subscriptionId: string, kind: OperationKind, count: number, now = Date.now()): void {
    const bucket = this.refill(`*|${subscriptionId.toLowerCase()}|${kind}`, this.globalLimits[kind], now);
    bucket.tokens = Math.max(0, bucket.tokens - count);
  }

  private refill(key: string, limits: BucketLimits, now: number): Bucket {
    const bucket = this.buckets.get(key) ?? { tokens: limits.capacity, updatedAt: now };
    bucket.tokens = Math.min(limits.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limits.refillPerSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    return bucket;
  }
}

function globalOf(limits: Record<OperationKind, BucketLimits>): Record<OperationKind, BucketLimits> {
  const scale = (l: BucketLimits) => ({ capacity: l.capacity * GLOBAL_FACTOR, refillPerSecond: l.refillPerSecond * GLOBAL_FACTOR });
  return { read: scale(limits.read), write: scale(limits.write), delete: scale(limits.delete) };
}
