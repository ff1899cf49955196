import type { OperationKind } from './faults';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface BucketLimits {
  capacity: number;
  refillPerSecond: number;
}

/** ARM's published token-bucket numbers, per principal and subscription. */
export const ARM_LIMITS: Record<OperationKind, BucketLimits> = {
  read: { capacity: 250, refillPerSecond: 25 },
  write: { capacity: 200, refillPerSecond: 10 },
  delete: { capacity: 200, refillPerSecond: 10 },
};

const HEADER: Record<OperationKind, string> = {
  read: 'x-ms-ratelimit-remaining-subscription-reads',
  write: 'x-ms-ratelimit-remaining-subscription-writes',
  delete: 'x-ms-ratelimit-remaining-subscription-deletes',
};

export type ThrottleDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; retryAfterSeconds: number; headers: Record<string, string> };

/** ARM's throttling: one token bucket per (principal, subscription, operation kind). Off by default. */
export class ArmThrottle {
  enabled = false;
  limits: Record<OperationKind, BucketLimits> = { ...ARM_LIMITS };
  throttled = 0;
  private readonly buckets = new Map<string, Bucket>();

  enable(limits: Partial<Record<OperationKind, BucketLimits>> = {}): void {
    this.enabled = true;
    this.limits = { ...ARM_LIMITS, ...limits };
    this.buckets.clear();
  }

  disable(): void {
    this.enabled = false;
  }

  take(principalId: string, subscriptionId: string, kind: OperationKind, now = Date.now()): ThrottleDecision {
    if (!this.enabled) return { allowed: true, headers: {} };
    const limits = this.limits[kind];
    const k = `${principalId}|${subscriptionId.toLowerCase()}|${kind}`;
    const bucket = this.buckets.get(k) ?? { tokens: limits.capacity, updatedAt: now };
    bucket.tokens = Math.min(limits.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limits.refillPerSecond);
    bucket.updatedAt = now;
    this.buckets.set(k, bucket);
    if (bucket.tokens < 1) {
      this.throttled++;
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / limits.refillPerSecond));
      return { allowed: false, retryAfterSeconds, headers: { [HEADER[kind]]: '0' } };
    }
    bucket.tokens -= 1;
    return { allowed: true, headers: { [HEADER[kind]]: String(Math.floor(bucket.tokens)) } };
  }
}
