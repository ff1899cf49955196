import type { LedgerEntry, LedgerStore } from './types';

/** The ledger for the sandbox and one-shot CLI runs: same contract, held in memory. */
export class MemoryLedger implements LedgerStore {
  private readonly entries: LedgerEntry[] = [];
  private readonly events = new Set<string>();

  async append(entry: LedgerEntry): Promise<void> {
    const i = this.entries.findIndex((e) => e.requestId === entry.requestId);
    if (i >= 0) this.entries[i] = structuredClone(entry);
    else this.entries.push(structuredClone(entry));
  }

  async byRequestId(requestId: string): Promise<LedgerEntry | undefined> {
    return this.entries.find((e) => e.requestId === requestId);
  }

  async byResourceId(resourceId: string, limit = 50): Promise<LedgerEntry[]> {
    const wanted = resourceId.toLowerCase();
    return this.entries.filter((e) => e.resourceId.toLowerCase() === wanted).reverse().slice(0, limit);
  }

  async hasHandledEvent(eventId: string): Promise<boolean> {
    return this.events.has(eventId);
  }

  async markEventHandled(eventId: string): Promise<void> {
    this.events.add(eventId);
  }
}
