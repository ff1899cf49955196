/**
 * Remembers each resource group's `managedBy` for a while. A group's `managedBy` is set when the
 * managing service creates it (AKS's node resource group, Databricks' managed group) and practically
 * never changes, so one ARM read per group per hour is enough; the cache is bounded, oldest entry first.
 */
export class ResourceGroupManagedByCache {
  private readonly entries = new Map<string, { managedBy: string | undefined; expiresAt: number }>();
  /** Reads in flight: a burst of events in one group makes one read, not one each. */
  private readonly loading = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly options: { ttlMs: number; maxEntries: number } = { ttlMs: 60 * 60_000, maxEntries: 5000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value (`managedBy` may be undefined), or `miss`. */
  get(resourceGroupId: string): { managedBy: string | undefined } | 'miss' {
    const key = resourceGroupId.toLowerCase();
    const entry = this.entries.get(key);
    if (!entry) return 'miss';
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return 'miss';
    }
    return { managedBy: entry.managedBy };
  }

  /** The cached value, or the one `load` reads (shared by every concurrent caller for that group). */
  async getOrLoad(resourceGroupId: string, load: () => Promise<string | undefined>): Promise<string | undefined> {
    const cached = this.get(resourceGroupId);
    if (cached !== 'miss') return cached.managedBy;
    const key = resourceGroupId.toLowerCase();
    let pending = this.loading.get(key);
    if (!pending) {
      pending = load()
        .then((managedBy) => {
          this.set(resourceGroupId, managedBy);
          return managedBy;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  set(resourceGroupId: string, managedBy: string | undefined): void {
    const key = resourceGroupId.toLowerCase();
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { managedBy, expiresAt: this.now() + this.options.ttlMs });
  }
}
