import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { ManagedIdentityCredential } from '@azure/identity';
import { QueueServiceClient } from '@azure/storage-queue';
import { type Autopilot, createAutopilot } from '../../src/app/composition';
import type { RulesConfig } from '../../src/config';
import { triggerNamed } from '../../src/functions/triggers';
import { readSettings } from '../../src/settings/settings';
import type { SweepPorts } from '../../src/sweep';
import { SEED_TYPES, seedResource } from '../../tools/arm-emulator/seed';
import type { Azurite } from '../support/azurite';
import type { EmulatorFixture } from '../support/emulator-fixture';
import { SUB_A, SUB_B } from '../support/emulator-fixture';
import { type QueueHostSettings, runQueueHost } from '../support/queue-host';

/** Two subscriptions; `rg-audit*` is report-only, everything else enforced. */
export const SWEEP_RULES = `
version: 1
scope:
  subscriptions: ["${SUB_A}", "${SUB_B}"]
  resourceGroups: ["rg-*"]
  optOutTag: autopilot-optout
profiles:
  rg-reader:
    roles:
      - role: Reader
        scope: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}
  self-monitoring:
    roles:
      - role: Monitoring Metrics Publisher
        scope: "{resourceId}"
rules:
  - name: audit-only
    match:
      resourceGroups: ["rg-audit*"]
    identity:
      kind: SystemAssigned
    profiles: [rg-reader]
    mode: report
  - name: workloads
    identity:
      kind: SystemAssigned
    profiles: [rg-reader, self-monitoring]
`;

/**
 * The app as the Functions host runs it, with the host's storage pointing at Azurite when given:
 * the remediation queue and the report container are real.
 */
export function buildSweepApp(
  env: EmulatorFixture,
  rules: RulesConfig,
  options: {
    azurite?: Azurite;
    sweep?: Partial<SweepPorts>;
    queueName?: string;
    budgetMs?: number;
    settings?: Record<string, string>;
    /** The time exemptions are judged at (a test advances it past an `expiresOn`). */
    clock?: () => Date;
  } = {},
): Autopilot {
  const emulator = env.emulator;
  Object.assign(process.env, emulator.managedIdentityEnvironment);
  const settings = readSettings({
    AUTOPILOT_ARM_ENDPOINT: emulator.url,
    AUTOPILOT_RULES_PATH: 'unused.yaml',
    AUTOPILOT_LRO_POLL_INTERVAL_MS: '20',
    ...(options.azurite ? { AzureWebJobsStorage: options.azurite.connectionString } : {}),
    ...(options.queueName ? { AUTOPILOT_REMEDIATION_QUEUE: options.queueName } : {}),
    ...options.settings,
  });
  return createAutopilot(settings, {
    rules,
    ca: emulator.ca,
    credential: new ManagedIdentityCredential(),
    sweep: options.sweep,
    clock: options.clock,
    engine: {
      principalNotFoundBackoff: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 30 },
      conflictBackoff: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 10 },
      ...(options.budgetMs ? { budgetMs: options.budgetMs } : {}),
    },
  });
}

export function queuesOf(app: Autopilot, azurite: Azurite) {
  const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const name = app.settings.sweep.queueName;
  return { queue: service.getQueueClient(name), poison: service.getQueueClient(`${name}-poison`) };
}

/** Runs the queue trigger from the trigger table over everything on the app's remediation queue. */
export async function drainRemediationQueue(app: Autopilot, azurite: Azurite, settings: QueueHostSettings, timeoutMs = 30_000) {
  const { queue, poison } = queuesOf(app, azurite);
  const trigger = triggerNamed('storageQueue', 'remediationQueue', () => app);
  return runQueueHost(queue, poison, trigger.handler, settings, { timeoutMs });
}

/** A web app in `resourceGroup`. */
export function seedSite(
  env: EmulatorFixture,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
  tags: Record<string, string> = {},
): string {
  return seedResource(env.emulator.state, { subscriptionId, resourceGroup, type: SEED_TYPES.webApp, name, tags });
}

/** One run of the timer trigger from the trigger table, as the host calls it: its log lines. */
export async function runTimerSweep(app: Autopilot, isPastDue = false): Promise<Array<Record<string, any>>> {
  const lines: Array<Record<string, any>> = [];
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'complianceSweep',
    logHandler: (_l, ...a) => a.forEach((x) => lines.push(JSON.parse(String(x)))),
  });
  await triggerNamed('timer', 'complianceSweep', () => app).handler(
    { isPastDue, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } },
    context,
  );
  return lines;
}

export { SUB_A, SUB_B };
