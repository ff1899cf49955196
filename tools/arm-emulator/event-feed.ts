import { type EventInput, resourceDeleteEvent, resourceWriteEvent } from './events';

/** One ARM change the emulator saw, from which an Event Grid event is built when a test takes it. */
export interface RecordedChange {
  /** Order of publication (1, 2, ...). */
  seq: number;
  verb: 'write' | 'delete';
  resourceId: string;
  /** When ARM would publish it: a write when accepted, a long-running delete when it ends. */
  at: Date;
  callerObjectId?: string;
  callerAppId?: string;
  apiVersion?: string;
}

/** `published` (seq order), `reversed`, or a permutation of the indexes of the changes taken. */
export type DeliveryOrder = 'published' | 'reversed' | readonly number[];

export interface TakeOptions {
  schema?: EventInput['schema'];
  order?: DeliveryOrder;
  /** Only the changes to take (the others stay in the feed). */
  filter?: (change: RecordedChange) => boolean;
}

/**
 * What Azure Resource Manager publishes to Event Grid as the emulator serves requests:
 * ResourceWriteSuccess for each successful PUT/PATCH of a resource, ResourceDeleteSuccess for each
 * DELETE that removed one (a long-running one when it ends). Event Grid delivers "at least once" and
 * does not guarantee order (Learn: event-grid/delivery-and-retry, "Event Grid doesn't guarantee order
 * for event delivery"), and retries failed deliveries for up to 24 hours: tests take the events in the
 * order and with the delays they want to try, each keeping its original `eventTime`.
 * Off by default (`enabled`), so long runs (benchmarks) keep nothing.
 */
export class EventFeed {
  enabled = false;
  private changes: RecordedChange[] = [];
  private seq = 0;

  record(change: Omit<RecordedChange, 'seq' | 'at'>): void {
    if (!this.enabled) return;
    this.changes.push({ ...change, seq: ++this.seq, at: new Date() });
  }

  /** The changes recorded and not taken yet, in publication order. */
  get pending(): readonly RecordedChange[] {
    return this.changes;
  }

  /** Removes the (filtered) changes from the feed and returns their events in the chosen order. */
  take(options: TakeOptions = {}): Array<Record<string, any>> {
    const wanted = this.changes.filter(options.filter ?? (() => true));
    this.changes = this.changes.filter((c) => !wanted.includes(c));
    return ordered(wanted, options.order ?? 'published').map((c) => toEvent(c, options.schema));
  }

  /**
   * Takes the events and hands them to `deliver` one at a time, in the chosen order, waiting
   * `delaysMs[i]` (or `delaysMs`) before the i-th delivery, as a late delivery would arrive.
   */
  async deliver(
    deliver: (event: Record<string, any>) => Promise<unknown>,
    options: TakeOptions & { delaysMs?: number | readonly number[] } = {},
  ): Promise<void> {
    const events = this.take(options);
    for (const [i, event] of events.entries()) {
      const delay = typeof options.delaysMs === 'number' ? options.delaysMs : (options.delaysMs?.[i] ?? 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await deliver(event);
    }
  }
}

function ordered(changes: RecordedChange[], order: DeliveryOrder): RecordedChange[] {
  if (order === 'published') return changes;
  if (order === 'reversed') return [...changes].reverse();
  const sorted = [...order].sort((a, b) => a - b);
  if (sorted.length !== changes.length || sorted.some((v, i) => v !== i)) {
    throw new Error(`order must be a permutation of 0..${changes.length - 1}, got [${order.join(', ')}]`);
  }
  return order.map((i) => changes[i]!);
}

function toEvent(c: RecordedChange, schema: EventInput['schema']): Record<string, any> {
  const input: EventInput = {
    resourceId: c.resourceId,
    callerObjectId: c.callerObjectId,
    callerAppId: c.callerAppId,
    eventTime: c.at,
    apiVersion: c.apiVersion,
    schema,
  };
  return c.verb === 'write' ? resourceWriteEvent(input) : resourceDeleteEvent(input);
}
