/**
 * What the benchmarks that run app instances in processes of their own share (burst.ts, churn.ts): the
 * instances' configuration against one emulator and one Azurite, Event Grid's delivery with its retry
 * schedule, and percentiles.
 *
 * Event Grid is modelled from "Event Grid message delivery and retry" (learn.microsoft.com/azure/event-grid/delivery-and-retry):
 * an event is delivered at once; a delivery that is not acknowledged within 30 s, or fails, is retried
 * after 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then every 12 h up to 24 h. The delivery
 * timeout is real time; the retry schedule is divided by a time factor, so a redelivery still costs the
 * run its (scaled) wait.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppProcess, AppProcessConfig } from '../test/support/app-processes';
import { hostJsonQueueSettings } from '../test/support/queue-host';

/** Event Grid's retry schedule (Learn: delivery-and-retry), in seconds, before time compression. */
export const EVENT_GRID_RETRIES_S = [10, 30, 60, 300, 600, 1800, 3600, 10_800, 21_600, 43_200, 86_400];
export const DELIVERY_TIMEOUT_MS = 30_000;

/** The p-th percentile (nearest rank) of `xs`; NaN when there are none. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

/** A comma-separated numeric command-line option (`--name 1,2`), or the fallback. */
export const numbersOption = (name: string, fallback: number[]) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]!.split(',').map(Number) : fallback;
};

/** The configuration of app instances against one emulator and one Azurite (queue and ledger there), with host.json's queue settings. */
export function benchAppConfig(input: {
  emulator: { url: string; ca: string; managedIdentityEnvironment: Record<string, string> };
  storageConnectionString: string;
  rulesYaml: string;
  /** Names the run's queue and ledger table. */
  name: string;
}): AppProcessConfig {
  const host = hostJsonQueueSettings();
  const hostJson = JSON.parse(readFileSync(join(__dirname, '..', 'host.json'), 'utf8'));
  const [h, m, s] = String(hostJson.extensions.queues.maxPollingInterval).split(':').map(Number) as [number, number, number];
  return {
    settings: {
      AUTOPILOT_ARM_ENDPOINT: input.emulator.url,
      AUTOPILOT_RULES_PATH: 'inline',
      AUTOPILOT_REMEDIATION_BUDGET_SECONDS: '25',
      AzureWebJobsStorage: input.storageConnectionString,
      AUTOPILOT_REMEDIATION_QUEUE: input.name,
      AUTOPILOT_LEDGER_TABLE: `${input.name}ledger`,
    },
    rulesYaml: input.rulesYaml,
    ca: input.emulator.ca,
    environment: input.emulator.managedIdentityEnvironment,
    queue: { ...host, maxPollingIntervalMs: (h * 3600 + m * 60 + s) * 1000 },
  };
}

export interface DeliveryStats {
  deliveries: number;
  redeliveries: number;
  /** Redeliveries after a timeout or a throttled answer. */
  throttleRedeliveries: number;
  /** Events Event Grid gave up on (its schedule ran out). */
  dropped: number;
}

/** A delivery that failed: to which instance, when it was sent, and the handler's error (or 'timeout'). */
export type FailedDelivery = (failure: { target: AppProcess; sentAt: number; error: string }) => void;

/**
 * Event Grid over the instances: each event goes to instance `n`, its retries round-robin to the next
 * ones, until one acknowledges it or the schedule (divided by `timeFactor`) runs out.
 */
export function eventGrid(apps: AppProcess[], timeFactor: number) {
  const stats: DeliveryStats = { deliveries: 0, redeliveries: 0, throttleRedeliveries: 0, dropped: 0 };
  const deliverUntilAcknowledged = async (event: unknown, n: number, onFailure?: FailedDelivery): Promise<boolean> => {
    for (let attempt = 0; ; attempt++) {
      stats.deliveries++;
      const sentAt = Date.now();
      const target = apps[(n + attempt) % apps.length]!;
      const error = await target.deliver(event, DELIVERY_TIMEOUT_MS);
      if (error === undefined) return true;
      onFailure?.({ target, sentAt, error });
      if (attempt >= EVENT_GRID_RETRIES_S.length) {
        stats.dropped++;
        return false;
      }
      stats.redeliveries++;
      if (error === 'timeout' || /thrott|429|TooManyRequests/i.test(error)) stats.throttleRedeliveries++;
      await new Promise((r) => setTimeout(r, (EVENT_GRID_RETRIES_S[attempt]! * 1000) / timeFactor));
    }
  };
  return { stats, deliverUntilAcknowledged };
}
