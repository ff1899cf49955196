/**
 * Calls per caller and minute, as a token bucket per caller: a burst of up to `perMinute` calls,
 * refilled evenly. Held in memory, so the limit is per instance (the HTTP triggers scale out
 * together, so the app-wide limit is this times the instance count). Callers are forgotten oldest
 * first beyond `maxCallers`, so a flood of distinct callers cannot exhaust memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxCallers = 10_000,
  ) {}

  /** Takes one call for `caller`: allowed, or the whole seconds until the next call would be. */
  take(caller: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const perMs = this.perMinute / 60_000;
    const previous = this.buckets.get(caller);
    const tokens = previous ? Math.min(this.perMinute, previous.tokens + (now - previous.at) * perMs) : this.perMinute;
    this.buckets.delete(caller); // re-inserted below: Map order is then least recently used first
    if (tokens < 1) {
      this.buckets.set(caller, { tokens, at: now });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
    }
    this.buckets.set(caller, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.maxCallers) this.buckets.delete(this.buckets.keys().next().value!);
    return { allowed: true };
  }
}
